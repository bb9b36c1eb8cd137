/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * G.729 / G.729A / G.729B over bcg729 (Annex A decoder with Annex B comfort noise).
 *
 * RFC 3551 §4.5.6: a payload is zero or more 10-octet frames (10 ms each) followed by at most
 * one 2-octet Annex B SID frame, which is always last. Annex A and B decode the same bit
 * stream, so `annexb=` in the fmtp does not change decoding. A payload whose length is neither
 * 10n nor 10n + 2 is malformed: we decode its whole 10-octet frames and ignore the tail.
 */
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#include <stdlib.h>

#include "codecs.h"

#define FRAME_BYTES 10
#define SID_BYTES 2
#define FRAME_SAMPLES 80

static void *g729_open(int a, int b) {
  (void)a;
  (void)b;
  return initBcg729DecoderChannel();
}

static size_t g729_decode(void *st, const uint8_t *in, size_t len, int16_t *out, size_t cap) {
  size_t frames = len / FRAME_BYTES, n = 0;
  int sid = len % FRAME_BYTES == SID_BYTES;
  /* bcg729 takes a non-const pointer but only reads it. */
  uint8_t *bits = (uint8_t *)in;
  for (size_t i = 0; i < frames && n + FRAME_SAMPLES <= cap; i++, n += FRAME_SAMPLES)
    bcg729Decoder(st, bits + i * FRAME_BYTES, FRAME_BYTES, 0, 0, 0, out + n);
  if (sid && n + FRAME_SAMPLES <= cap) {
    bcg729Decoder(st, bits + frames * FRAME_BYTES, SID_BYTES, 0, 1, 0, out + n);
    n += FRAME_SAMPLES;
  }
  return n;
}

/*
 * G.729 §4.4 frame erasure concealment. A NULL bit stream with the erasure flag set is what
 * bcg729 takes for a missing frame; after a SID it continues the comfort noise instead
 * (G.729 Annex B §B.27), so a loss inside DTX stays noise rather than extrapolated speech.
 */
static size_t g729_conceal(void *st, size_t want, int16_t *out, size_t cap) {
  size_t n = 0;
  while (n < want && n + FRAME_SAMPLES <= cap) {
    bcg729Decoder(st, NULL, 0, 1, 0, 0, out + n);
    n += FRAME_SAMPLES;
  }
  return n;
}

static void g729_close(void *st) { closeBcg729DecoderChannel(st); }

const codec_ops g729_ops = {"g729", g729_open, g729_decode, g729_conceal, g729_close};

void *g729_encoder_open(int vad) { return initBcg729EncoderChannel(vad ? 1 : 0); }

size_t g729_encoder_encode(void *st, const int16_t *pcm, uint8_t *out) {
  uint8_t len = 0;
  bcg729Encoder(st, pcm, out, &len);
  return len;
}

void g729_encoder_close(void *st) { closeBcg729EncoderChannel(st); }
