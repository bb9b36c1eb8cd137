/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * AMR (opencore-amrnb) and AMR-WB (opencore-amrwb), one frame per call. The RFC 4867 payload
 * (CMR, table of contents, bandwidth-efficient or octet-aligned) is parsed in codecs/amr-payload.ts,
 * which hands us each frame in the storage format of RFC 4867 §5.3: one header octet
 * (0 FT[4] Q 0 0) followed by the frame's speech bits, octet-aligned, in the order the speech
 * bits travel (3GPP TS 26.101 / 26.201 class order).
 *
 * Both libraries read a fixed number of octets for a frame type, so the frame is copied into a
 * zeroed buffer of the largest size first; a frame shorter than its type's size decodes nothing.
 * AMR-WB also writes to the header octet it is given, another reason for the copy.
 */
#include <opencore-amrnb/interf_dec.h>
#include <opencore-amrwb/dec_if.h>
#include <string.h>

#include "codecs.h"

#define NB_SAMPLES 160
#define WB_SAMPLES 320
#define FRAME_BUF 64
#define FT_NO_DATA 15
#define WB_FT_SPEECH_LOST 14

/* Speech octets per frame type (RFC 4867 §3.6 / TS 26.101 Table 1, TS 26.201 Table 2); -1: no such frame. */
static const int NB_BYTES[16] = {12, 13, 15, 17, 19, 20, 26, 31, 5, -1, -1, -1, -1, -1, -1, 0};
static const int WB_BYTES[16] = {17, 23, 32, 36, 40, 46, 50, 58, 60, 5, -1, -1, -1, -1, 0, 0};

/* Validated copy of one storage-format frame; its frame type, or -1 when unusable. */
static int load(const uint8_t *in, size_t len, const int sizes[16], uint8_t buf[FRAME_BUF]) {
  if (len < 1) return -1;
  int ft = (in[0] >> 3) & 0x0f;
  int size = sizes[ft];
  if (size < 0 || len - 1 < (size_t)size) return -1;
  memset(buf, 0, FRAME_BUF);
  memcpy(buf, in, (size_t)size + 1);
  return ft;
}

static void *amrnb_open(int a, int b) {
  (void)a;
  (void)b;
  return Decoder_Interface_init();
}

static size_t amrnb_decode(void *st, const uint8_t *in, size_t len, int16_t *out, size_t cap) {
  uint8_t buf[FRAME_BUF];
  if (cap < NB_SAMPLES || load(in, len, NB_BYTES, buf) < 0) return 0;
  /* opencore-amrnb ignores Q; its bad-frame flag turns the frame into NO_DATA, which the
     decoder conceals (TS 26.091) or, during DTX, fills with comfort noise (TS 26.092). */
  int bad = (buf[0] & 0x04) == 0;
  Decoder_Interface_Decode(st, buf, out, bad);
  return NB_SAMPLES;
}

static size_t amrnb_conceal(void *st, size_t want, int16_t *out, size_t cap) {
  uint8_t buf[FRAME_BUF] = {FT_NO_DATA << 3};
  size_t n = 0;
  while (n < want && n + NB_SAMPLES <= cap) {
    Decoder_Interface_Decode(st, buf, out + n, 1);
    n += NB_SAMPLES;
  }
  return n;
}

static void amrnb_close(void *st) { Decoder_Interface_exit(st); }

const codec_ops amrnb_ops = {"amrnb", amrnb_open, amrnb_decode, amrnb_conceal, amrnb_close};

static void *amrwb_open(int a, int b) {
  (void)a;
  (void)b;
  return D_IF_init();
}

static size_t amrwb_decode(void *st, const uint8_t *in, size_t len, int16_t *out, size_t cap) {
  uint8_t buf[FRAME_BUF];
  if (cap < WB_SAMPLES || load(in, len, WB_BYTES, buf) < 0) return 0;
  /* opencore-amrwb reads Q itself (Q = 0 makes the frame SPEECH_BAD / SID_BAD). */
  D_IF_decode(st, buf, out, _good_frame);
  return WB_SAMPLES;
}

/* TS 26.191 concealment: frame type 14 is SPEECH_LOST (RFC 4867 §3.6 Table 1b). */
static size_t amrwb_conceal(void *st, size_t want, int16_t *out, size_t cap) {
  uint8_t buf[FRAME_BUF];
  size_t n = 0;
  while (n < want && n + WB_SAMPLES <= cap) {
    memset(buf, 0, sizeof buf);
    buf[0] = WB_FT_SPEECH_LOST << 3 | 0x04;
    D_IF_decode(st, buf, out + n, _good_frame);
    n += WB_SAMPLES;
  }
  return n;
}

static void amrwb_close(void *st) { D_IF_exit(st); }

const codec_ops amrwb_ops = {"amrwb", amrwb_open, amrwb_decode, amrwb_conceal, amrwb_close};
