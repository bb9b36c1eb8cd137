/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SLAB_SET_H
#define SLAB_SET_H
#include <node_api.h>
#include <stdint.h>

/* Every slab is this long: memory pages TypeScript allocates as Buffers and keeps for the set's life. */
#define SLAB_BYTES (1u << 20)

typedef struct {
  uint32_t n, cap;
  uint8_t **base;
} slab_set;

/* The set passed as a JS external (newSlabSet), or NULL. */
const slab_set *slab_set_of(napi_env env, napi_value v);

/* A typed array argument of type `want`: its memory and element count. */
static inline int typed_array_of(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  return napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) == napi_ok && t == want;
}

/* Adds newSlabSet and slabSetAdd to the addon's exports. */
void slab_set_register(napi_env env, napi_value exports);

#endif
