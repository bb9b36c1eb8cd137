/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Speex over libspeex: narrowband (8 kHz, 160-sample frames), wideband (16 kHz, 320) and
 * ultra-wideband (32 kHz, 640). RFC 5574 §3: a payload holds one or more frames back to back
 * with no count or length; the receiver decodes until the bits run out, the last octet padded
 * with a terminator (a 0 then 1s, read as mode 15). Speex reports the end (-1) or a corrupt
 * frame (-2), or over-reads past the last bit (remaining < 0): the frame then is discarded.
 * Loss concealment is libspeex's own (a NULL bit stream decodes a lost frame).
 */
#include <speex/speex.h>
#include <stdlib.h>

#include "codecs.h"

/* The fewest bits a frame can start with: the wideband flag and a 4-bit mode. */
#define MIN_FRAME_BITS 5

typedef struct {
  void *st;
  SpeexBits bits;
  size_t frame;
} speex_dec;

/* a = 0 narrowband, 1 wideband, 2 ultra-wideband. */
static void *speex_open(int a, int b) {
  (void)b;
  if (a < SPEEX_MODEID_NB || a > SPEEX_MODEID_UWB) return NULL;
  speex_dec *d = malloc(sizeof *d);
  if (d == NULL) return NULL;
  d->st = speex_decoder_init(speex_lib_get_mode(a));
  if (d->st == NULL) {
    free(d);
    return NULL;
  }
  spx_int32_t frame = 0;
  speex_decoder_ctl(d->st, SPEEX_GET_FRAME_SIZE, &frame);
  d->frame = frame > 0 ? (size_t)frame : 160;
  speex_bits_init(&d->bits);
  return d;
}

static size_t speex_decode_fn(void *st, const uint8_t *in, size_t len, int16_t *out, size_t cap) {
  speex_dec *d = st;
  size_t n = 0;
  if (len > INT32_MAX / 8) return 0;
  speex_bits_read_from(&d->bits, (const char *)in, (int)len);
  while (n + d->frame <= cap && speex_bits_remaining(&d->bits) >= MIN_FRAME_BITS) {
    if (speex_decode_int(d->st, &d->bits, out + n) != 0) break;
    if (speex_bits_remaining(&d->bits) < 0) break;
    n += d->frame;
  }
  return n;
}

static size_t speex_conceal(void *st, size_t want, int16_t *out, size_t cap) {
  speex_dec *d = st;
  size_t n = 0;
  while (n < want && n + d->frame <= cap) {
    speex_decode_int(d->st, NULL, out + n);
    n += d->frame;
  }
  return n;
}

static void speex_close(void *st) {
  speex_dec *d = st;
  speex_bits_destroy(&d->bits);
  speex_decoder_destroy(d->st);
  free(d);
}

const codec_ops speex_ops = {"speex", speex_open, speex_decode_fn, speex_conceal, speex_close};
