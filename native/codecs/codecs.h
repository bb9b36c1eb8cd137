/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Our glue between the N-API surface (addon.c) and the codec libraries Debian ships. Each codec
 * family implements one codec_ops table; addon.c owns the JS side (argument checks, external
 * objects, finalizers) so the per-codec files only see validated pointers and lengths.
 *
 * Contract of every decode(): `in`/`len` is one RTP payload (one frame for AMR, whose RFC 4867
 * payload is parsed in TypeScript), `out` has room for `cap` samples. It returns the samples
 * written (never more than cap), 0 when nothing could be decoded. It must never read past
 * in[len - 1], whatever the bytes say: libraries that read a fixed frame size get a copy padded
 * to that size.
 */
#ifndef CODECS_H
#define CODECS_H

#include <stddef.h>
#include <stdint.h>

typedef struct codec_ops {
  const char *name;
  /* New state, or NULL for unsupported parameters (a, b are codec specific) or no memory. */
  void *(*open)(int a, int b);
  size_t (*decode)(void *st, const uint8_t *in, size_t len, int16_t *out, size_t cap);
  /* Loss concealment, about `want` samples; NULL when the codec (as built) has none. */
  size_t (*conceal)(void *st, size_t want, int16_t *out, size_t cap);
  void (*close)(void *st);
} codec_ops;

extern const codec_ops g729_ops;   /* g729.c: bcg729 */
extern const codec_ops g722_ops;   /* g72x.c: spandsp */
extern const codec_ops g726_ops;   /* g72x.c: spandsp; a = bit rate, b = packing (0 RFC 3551, 1 AAL2) */
extern const codec_ops gsm_ops;    /* gsm.c: libgsm */
extern const codec_ops speex_ops;  /* speex.c: libspeex; a = 0 nb, 1 wb, 2 uwb */
extern const codec_ops amrnb_ops;  /* amr.c: opencore-amrnb */
extern const codec_ops amrwb_ops;  /* amr.c: opencore-amrwb */
extern const codec_ops ilbc_ops;   /* lavc.c: libavcodec; a = 20 or 30 (ms) */
extern const codec_ops siren_ops;  /* lavc.c: libavcodec; a = bytes per frame (60 or 80) */

/* Test-only encoder (bcg729's own), to make Annex B streams with SID frames. */
void *g729_encoder_open(int vad);
/* 80 samples in; returns the frame bytes written to out (10 speech, 2 SID, 0 untransmitted). */
size_t g729_encoder_encode(void *st, const int16_t *pcm, uint8_t *out);
void g729_encoder_close(void *st);

/* opus_enc.c: libopus encoder for the Ogg Opus writer. */
void *opus_enc_open(int rate, int channels, int application);
/* A SET request with one integer (status returned), or OPUS_GET_LOOKAHEAD_REQUEST (the value). */
int opus_enc_ctl(void *st, int request, int value);
/* One frame of frame_size samples per channel, interleaved; packet bytes or a negative error. */
int opus_enc_encode(void *st, const int16_t *pcm, int frame_size, uint8_t *out, int max);
void opus_enc_close(void *st);

/* libavcodec: whether a decoder of that name exists, and the library version string. */
int lavc_has_decoder(const char *name);
const char *lavc_version(void);

#endif
