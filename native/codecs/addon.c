/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * codecs.node: RTP payload decoders over Debian's codec libraries, for the modules in codecs/.
 *
 * JS surface (all synchronous; renders run in worker threads, one state per stream):
 *   open(name, a, b)                        -> handle | null   (null: unsupported parameters)
 *   decode(h, src, off, len, dst, dstOff)   -> samples written into dst from dstOff
 *   conceal(h, samples, dst, dstOff)        -> samples written (0 when the codec has no PLC)
 *   close(h)                                   frees the state now (the finalizer does it otherwise)
 *   g729EncoderOpen(vad) / g729Encode(h, pcm, off, dst, dstOff)   test-only bcg729 encoder
 *   opusEncoderOpen(rate, channels, application) -> handle | null
 *   opusEncoderCtl(h, request, value) -> libopus status (or the value, for GET_LOOKAHEAD)
 *   opusEncode(h, pcm, off, frameSize, dst, dstOff) -> packet bytes, or a negative libopus error
 *   lavcHasDecoder(name), lavcVersion()
 *
 * Handles are externals tagged with napi_type_tag_object, so a foreign object is rejected
 * instead of being read as our struct. Decoding writes straight into the caller's Int16Array
 * and reads the caller's Uint8Array in place: no allocation per packet on this side.
 *
 * Wire bytes never throw: an offset or length outside the arrays decodes nothing (returns 0).
 * Only programming errors (wrong argument types, a closed or foreign handle) throw TypeError.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codecs.h"

typedef enum { KIND_DECODER = 1, KIND_G729_ENCODER = 2, KIND_OPUS_ENCODER = 3 } handle_kind;

typedef struct handle {
  handle_kind kind;
  const codec_ops *ops; /* decoders */
  void *st;             /* NULL once closed */
  int channels;         /* Opus encoders: interleaved channels per frame */
} handle;

static const napi_type_tag HANDLE_TAG = {0x7c0d3c5a1f2e4b61ULL, 0x9a8b7c6d5e4f3021ULL};

static const codec_ops *const ALL_OPS[] = {
    &g729_ops, &g722_ops, &g726_ops, &gsm_ops, &speex_ops, &amrnb_ops, &amrwb_ops, &ilbc_ops, &siren_ops,
};

#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) return throw_type(env, "codecs: bad arguments");                       \
  } while (0)

static napi_value throw_type(napi_env env, const char *msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static void close_state(handle_kind kind, const codec_ops *ops, void *st) {
  if (kind == KIND_DECODER) ops->close(st);
  else if (kind == KIND_OPUS_ENCODER) opus_enc_close(st);
  else g729_encoder_close(st);
}

static void release(handle *h) {
  if (h->st == NULL) return;
  close_state(h->kind, h->ops, h->st);
  h->st = NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  handle *h = data;
  release(h);
  free(h);
}

static napi_value wrap(napi_env env, handle_kind kind, const codec_ops *ops, void *st) {
  napi_value out;
  handle *h = malloc(sizeof *h);
  if (h == NULL) {
    close_state(kind, ops, st);
    napi_throw_error(env, NULL, "codecs: out of memory");
    return NULL;
  }
  h->kind = kind;
  h->ops = ops;
  h->st = st;
  h->channels = 1;
  if (napi_create_external(env, h, finalize, NULL, &out) != napi_ok) {
    finalize(env, h, NULL);
    return throw_type(env, "codecs: cannot create handle");
  }
  if (napi_type_tag_object(env, out, &HANDLE_TAG) != napi_ok) return throw_type(env, "codecs: cannot tag handle");
  return out;
}

/* The open handle behind a JS value, or NULL (exception set) for anything else. */
static handle *unwrap(napi_env env, napi_value v, handle_kind kind) {
  bool ok = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, v, &HANDLE_TAG, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, v, &data) != napi_ok) {
    throw_type(env, "codecs: not a codec handle");
    return NULL;
  }
  handle *h = data;
  if (h->kind != kind) {
    throw_type(env, "codecs: wrong kind of handle");
    return NULL;
  }
  return h;
}

static bool typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *n) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  if (napi_get_typedarray_info(env, v, &t, n, data, &ab, &off) != napi_ok) return false;
  return t == want;
}

static napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

/* [off, off + len) inside [0, n)? Negative values come from JS as large after the cast: refused. */
static bool in_range(int64_t off, int64_t len, size_t n) {
  return off >= 0 && len >= 0 && (uint64_t)off <= n && (uint64_t)len <= n - (uint64_t)off;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char name[16];
  size_t name_len = 0;
  int32_t a = 0, b = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "codecs.open(name, a, b)");
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len));
  CHECK(napi_get_value_int32(env, argv[1], &a));
  CHECK(napi_get_value_int32(env, argv[2], &b));
  for (size_t i = 0; i < sizeof ALL_OPS / sizeof ALL_OPS[0]; i++) {
    const codec_ops *ops = ALL_OPS[i];
    if (strcmp(ops->name, name) != 0) continue;
    void *st = ops->open(a, b);
    if (st == NULL) break;
    return wrap(env, KIND_DECODER, ops, st);
  }
  napi_value nul;
  napi_get_null(env, &nul);
  return nul;
}

static napi_value js_decode(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  void *src, *dst;
  size_t src_n, dst_n;
  int64_t off, len, dst_off;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_type(env, "codecs.decode(h, src, off, len, dst, dstOff)");
  handle *h = unwrap(env, argv[0], KIND_DECODER);
  if (h == NULL) return NULL;
  if (!typed(env, argv[1], napi_uint8_array, &src, &src_n)) return throw_type(env, "codecs.decode: src must be a Uint8Array");
  if (!typed(env, argv[4], napi_int16_array, &dst, &dst_n)) return throw_type(env, "codecs.decode: dst must be an Int16Array");
  CHECK(napi_get_value_int64(env, argv[2], &off));
  CHECK(napi_get_value_int64(env, argv[3], &len));
  CHECK(napi_get_value_int64(env, argv[5], &dst_off));
  if (h->st == NULL || len == 0 || !in_range(off, len, src_n) || !in_range(dst_off, 0, dst_n)) return number(env, 0);
  size_t n = h->ops->decode(h->st, (const uint8_t *)src + off, (size_t)len, (int16_t *)dst + dst_off, dst_n - (size_t)dst_off);
  return number(env, (double)n);
}

static napi_value js_conceal(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void *dst;
  size_t dst_n;
  int64_t want, dst_off;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "codecs.conceal(h, samples, dst, dstOff)");
  handle *h = unwrap(env, argv[0], KIND_DECODER);
  if (h == NULL) return NULL;
  if (!typed(env, argv[2], napi_int16_array, &dst, &dst_n)) return throw_type(env, "codecs.conceal: dst must be an Int16Array");
  CHECK(napi_get_value_int64(env, argv[1], &want));
  CHECK(napi_get_value_int64(env, argv[3], &dst_off));
  if (h->st == NULL || h->ops->conceal == NULL || want <= 0 || !in_range(dst_off, 0, dst_n)) return number(env, 0);
  size_t cap = dst_n - (size_t)dst_off;
  size_t n = h->ops->conceal(h->st, (size_t)want, (int16_t *)dst + dst_off, cap);
  return number(env, (double)n);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool ok = false;
  void *data = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "codecs.close(h)");
  if (napi_check_object_type_tag(env, argv[0], &HANDLE_TAG, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, argv[0], &data) != napi_ok)
    return throw_type(env, "codecs: not a codec handle");
  release(data);
  return NULL;
}

static napi_value js_g729_encoder_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool vad = false;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) CHECK(napi_get_value_bool(env, argv[0], &vad));
  void *st = g729_encoder_open(vad ? 1 : 0);
  if (st == NULL) {
    napi_throw_error(env, NULL, "codecs: bcg729 encoder init failed");
    return NULL;
  }
  return wrap(env, KIND_G729_ENCODER, NULL, st);
}

static napi_value js_g729_encode(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  void *pcm, *dst;
  size_t pcm_n, dst_n;
  int64_t off, dst_off;
  uint8_t frame[10];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_type(env, "codecs.g729Encode(h, pcm, off, dst, dstOff)");
  handle *h = unwrap(env, argv[0], KIND_G729_ENCODER);
  if (h == NULL) return NULL;
  if (!typed(env, argv[1], napi_int16_array, &pcm, &pcm_n)) return throw_type(env, "codecs.g729Encode: pcm must be an Int16Array");
  if (!typed(env, argv[3], napi_uint8_array, &dst, &dst_n)) return throw_type(env, "codecs.g729Encode: dst must be a Uint8Array");
  CHECK(napi_get_value_int64(env, argv[2], &off));
  CHECK(napi_get_value_int64(env, argv[4], &dst_off));
  if (h->st == NULL || !in_range(off, 80, pcm_n) || !in_range(dst_off, 10, dst_n)) return throw_type(env, "codecs.g729Encode: range");
  size_t n = g729_encoder_encode(h->st, (const int16_t *)pcm + off, frame);
  memcpy((uint8_t *)dst + dst_off, frame, n);
  return number(env, (double)n);
}

static napi_value js_opus_encoder_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t rate = 0, channels = 0, app = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "codecs.opusEncoderOpen(rate, channels, application)");
  CHECK(napi_get_value_int32(env, argv[0], &rate));
  CHECK(napi_get_value_int32(env, argv[1], &channels));
  CHECK(napi_get_value_int32(env, argv[2], &app));
  void *st = (channels == 1 || channels == 2) ? opus_enc_open(rate, channels, app) : NULL;
  if (st == NULL) {
    napi_value nul;
    napi_get_null(env, &nul);
    return nul;
  }
  napi_value out = wrap(env, KIND_OPUS_ENCODER, NULL, st);
  if (out == NULL) return NULL;
  handle *h = unwrap(env, out, KIND_OPUS_ENCODER);
  if (h != NULL) h->channels = channels;
  return out;
}

static napi_value js_opus_encoder_ctl(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t request = 0, value = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "codecs.opusEncoderCtl(h, request, value)");
  handle *h = unwrap(env, argv[0], KIND_OPUS_ENCODER);
  if (h == NULL) return NULL;
  CHECK(napi_get_value_int32(env, argv[1], &request));
  CHECK(napi_get_value_int32(env, argv[2], &value));
  if (h->st == NULL) return number(env, -1);
  return number(env, opus_enc_ctl(h->st, request, value));
}

static napi_value js_opus_encode(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  void *pcm, *dst;
  size_t pcm_n, dst_n;
  int64_t off, frame, dst_off;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_type(env, "codecs.opusEncode(h, pcm, off, frameSize, dst, dstOff)");
  handle *h = unwrap(env, argv[0], KIND_OPUS_ENCODER);
  if (h == NULL) return NULL;
  if (!typed(env, argv[1], napi_int16_array, &pcm, &pcm_n)) return throw_type(env, "codecs.opusEncode: pcm must be an Int16Array");
  if (!typed(env, argv[4], napi_uint8_array, &dst, &dst_n)) return throw_type(env, "codecs.opusEncode: dst must be a Uint8Array");
  CHECK(napi_get_value_int64(env, argv[2], &off));
  CHECK(napi_get_value_int64(env, argv[3], &frame));
  CHECK(napi_get_value_int64(env, argv[5], &dst_off));
  /* libopus reads frame × channels samples: they must all be inside pcm (5760: 120 ms at 48 kHz). */
  if (h->st == NULL || frame <= 0 || frame > 5760 || !in_range(off, frame * h->channels, pcm_n) || !in_range(dst_off, 1, dst_n))
    return number(env, -1);
  size_t max = dst_n - (size_t)dst_off;
  if (max > 1275 * 3) max = 1275 * 3;
  int n = opus_enc_encode(h->st, (const int16_t *)pcm + off, (int)frame, (uint8_t *)dst + dst_off, (int)max);
  return number(env, n);
}

static napi_value js_lavc_has_decoder(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[64];
  size_t name_len = 0;
  napi_value out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "codecs.lavcHasDecoder(name)");
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len));
  napi_get_boolean(env, lavc_has_decoder(name) != 0, &out);
  return out;
}

static napi_value js_lavc_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_string_utf8(env, lavc_version(), NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decode", NULL, js_decode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conceal", NULL, js_conceal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"g729EncoderOpen", NULL, js_g729_encoder_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"g729Encode", NULL, js_g729_encode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"opusEncoderOpen", NULL, js_opus_encoder_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"opusEncoderCtl", NULL, js_opus_encoder_ctl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"opusEncode", NULL, js_opus_encode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lavcHasDecoder", NULL, js_lavc_has_decoder, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lavcVersion", NULL, js_lavc_version, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
