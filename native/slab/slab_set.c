/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A slab set: the memory addresses of SLAB_BYTES Buffers that TypeScript allocated and keeps
 * alive for as long as the set (recorder/core/native-pages.ts), so that C loops over shared
 * state find a page by index without a JS call per access. ArrayBuffer memory does not move.
 *
 * newSlabSet() → an external; slabSetAdd(set, buffer) → the buffer's index in the set, or -1.
 */
#include <stdlib.h>

#include "slab_set.h"

static void slab_set_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  slab_set *s = data;
  free(s->base);
  free(s);
}

static napi_value new_slab_set(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  slab_set *s = calloc(1, sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  if (napi_create_external(env, s, slab_set_free, NULL, &out) != napi_ok) {
    free(s);
    return NULL;
  }
  return out;
}

static napi_value slab_set_add(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  void *ext = NULL, *data = NULL;
  size_t len = 0;
  int32_t r = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 2 && napi_get_value_external(env, argv[0], &ext) == napi_ok &&
      napi_get_buffer_info(env, argv[1], &data, &len) == napi_ok && len == SLAB_BYTES) {
    slab_set *s = ext;
    if (s->n == s->cap) {
      uint32_t cap = s->cap ? s->cap * 2 : 16;
      uint8_t **b = realloc(s->base, cap * sizeof *b);
      if (b != NULL) {
        s->base = b;
        s->cap = cap;
      }
    }
    if (s->n < s->cap) {
      s->base[s->n] = data;
      r = (int32_t)s->n++;
    }
  }
  napi_create_int32(env, r, &out);
  return out;
}

const slab_set *slab_set_of(napi_env env, napi_value v) {
  void *ext = NULL;
  return napi_get_value_external(env, v, &ext) == napi_ok ? ext : NULL;
}

void slab_set_register(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"newSlabSet", NULL, new_slab_set, NULL, NULL, NULL, napi_enumerable, NULL},
      {"slabSetAdd", NULL, slab_set_add, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
}
