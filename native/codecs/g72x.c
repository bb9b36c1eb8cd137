/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * G.722 and G.726 over spandsp (both ADPCM: every octet decodes, so any length is valid).
 *
 * G.722 (RFC 3551 §4.5.2): 64 kbit/s, one octet per two 16 kHz samples (the RTP clock says
 * 8000 for historical reasons; the audio is 16 kHz).
 *
 * G.726 (RFC 3551 §4.5.4): 2-5 bit code words. RTP's G726-xx packs them from the least
 * significant bit of each octet up; AAL2-G726-xx (ITU-T I.366.2 Annex E packing, the media
 * types of RFC 4856) from the most significant bit down. spandsp calls those
 * G726_PACKING_RIGHT and G726_PACKING_LEFT; test/codecs/g726.test.ts checks which is which
 * against ffmpeg's g726le (right-justified) and g726 (left-justified) decoders, and the audio
 * against Sun's reference G.72x code (via sox).
 */
#include <stdint.h>
#include <stdlib.h>

#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/g726.h>

#include "codecs.h"

static void *g722_open(int a, int b) {
  (void)a;
  (void)b;
  return g722_decode_init(NULL, 64000, 0);
}

static size_t g722_decode_fn(void *st, const uint8_t *in, size_t len, int16_t *out, size_t cap) {
  size_t bytes = len < cap / 2 ? len : cap / 2;
  if (bytes == 0) return 0;
  int n = g722_decode(st, out, in, (int)bytes);
  return n > 0 ? (size_t)n : 0;
}

static void g722_close(void *st) { g722_decode_free(st); }

const codec_ops g722_ops = {"g722", g722_open, g722_decode_fn, NULL, g722_close};

/* spandsp keeps the rate inside its opaque state; we keep the code word size to bound output. */
typedef struct {
  g726_state_t *s;
  size_t bits;
} g726_dec;

/* a = bit rate (16000, 24000, 32000, 40000); b = 0 RFC 3551 packing, 1 AAL2 packing. */
static void *g726_open(int a, int b) {
  if (a != 16000 && a != 24000 && a != 32000 && a != 40000) return NULL;
  if (b != 0 && b != 1) return NULL;
  g726_dec *d = malloc(sizeof *d);
  if (d == NULL) return NULL;
  d->bits = (size_t)a / 8000;
  d->s = g726_init(NULL, a, G726_ENCODING_LINEAR, b == 0 ? G726_PACKING_RIGHT : G726_PACKING_LEFT);
  if (d->s == NULL) {
    free(d);
    return NULL;
  }
  return d;
}

static size_t g726_decode_fn(void *st, const uint8_t *in, size_t len, int16_t *out, size_t cap) {
  g726_dec *d = st;
  /* n octets give at most (8n + bits - 1) / bits code words: fewer than `bits` bits of the
     previous packet may still wait in spandsp's state. Decode only as many octets as fit. */
  size_t room = cap * d->bits;
  size_t max_bytes = room >= d->bits - 1 ? (room - (d->bits - 1)) / 8 : 0;
  size_t bytes = len < max_bytes ? len : max_bytes;
  if (bytes == 0 || bytes > INT32_MAX) return 0;
  int n = g726_decode(d->s, out, in, (int)bytes);
  return n > 0 ? (size_t)n : 0;
}

static void g726_close(void *st) {
  g726_dec *d = st;
  g726_free(d->s);
  free(d);
}

const codec_ops g726_ops = {"g726", g726_open, g726_decode_fn, NULL, g726_close};
