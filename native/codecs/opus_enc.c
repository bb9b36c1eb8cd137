/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The Opus encoder of the recording writers, over Debian's libopus (RFC 6716; API of
 * opus_encoder_create/opus_encode/opus_encoder_ctl in <opus/opus.h>). Here rather than through
 * @evan/opus's own addon, which crashes the process when a worker thread that loaded it ends,
 * and whose WASM build encodes at half this speed.
 */
#include <opus/opus.h>

#include "codecs.h"

void *opus_enc_open(int rate, int channels, int application) {
  int err = OPUS_OK;
  OpusEncoder *e = opus_encoder_create(rate, channels, application, &err);
  return err == OPUS_OK ? e : NULL;
}

/* The SET requests the writers use all take one opus_int32; GET_LOOKAHEAD is the one getter. */
int opus_enc_ctl(void *st, int request, int value) {
  if (request == OPUS_GET_LOOKAHEAD_REQUEST) {
    opus_int32 v = 0;
    int r = opus_encoder_ctl((OpusEncoder *)st, OPUS_GET_LOOKAHEAD(&v));
    return r == OPUS_OK ? (int)v : r;
  }
  if (request < 4000 || request > 4999 || (request & 1) != 0) return OPUS_UNIMPLEMENTED; /* SET requests are even */
  return opus_encoder_ctl((OpusEncoder *)st, request, (opus_int32)value);
}

int opus_enc_encode(void *st, const int16_t *pcm, int frame_size, uint8_t *out, int max) {
  return opus_encode((OpusEncoder *)st, pcm, frame_size, out, max);
}

void opus_enc_close(void *st) { opus_encoder_destroy((OpusEncoder *)st); }
