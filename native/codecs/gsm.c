/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * GSM 06.10 full rate over libgsm. RFC 3551 §4.5.8: 33-octet frames (20 ms, 160 samples),
 * each starting with the 0xD signature nibble; a payload may carry several. A frame whose
 * signature is wrong is replaced by 20 ms of silence (libgsm refuses it), so the frames after
 * it keep their place; a payload with no valid frame decodes nothing. A tail shorter than a
 * frame is ignored. libgsm has no loss concealment.
 */
#include <gsm.h>
#include <string.h>

#include "codecs.h"

#define FRAME_BYTES 33
#define FRAME_SAMPLES 160

static void *gsm_open(int a, int b) {
  (void)a;
  (void)b;
  return gsm_create();
}

static size_t gsm_decode_fn(void *st, const uint8_t *in, size_t len, int16_t *out, size_t cap) {
  size_t n = 0, good = 0;
  for (size_t off = 0; off + FRAME_BYTES <= len && n + FRAME_SAMPLES <= cap; off += FRAME_BYTES, n += FRAME_SAMPLES) {
    /* gsm_decode takes a non-const pointer but only reads the 33 octets. */
    if (gsm_decode(st, (gsm_byte *)(in + off), out + n) == 0) good++;
    else memset(out + n, 0, FRAME_SAMPLES * sizeof *out);
  }
  return good > 0 ? n : 0;
}

static void gsm_close(void *st) { gsm_destroy(st); }

const codec_ops gsm_ops = {"gsm", gsm_open, gsm_decode_fn, NULL, gsm_close};
