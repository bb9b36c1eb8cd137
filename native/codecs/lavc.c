/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * iLBC and G.722.1 through libavcodec (Debian's ffmpeg), the only decoders of either in
 * Debian 12. Both are fixed-size frames; the RTP payload is split into frames here and each
 * frame is one AVPacket, because libavcodec's iLBC decoder consumes a whole packet per frame
 * (it would drop the rest of a multi-frame packet).
 *
 * iLBC (RFC 3952 §3, RFC 3951): 38-octet 20 ms or 50-octet 30 ms frames at 8 kHz. libavcodec's
 * decoder has no RFC 3951 §4.5 packet loss concealment (an invalid frame only re-synthesises
 * the previous residual, undamped) and no enhancer (RFC 3951 §4.6), so there is no conceal().
 *
 * G.722.1 (RFC 5577): 20 ms frames of 60 (24 kbit/s) or 80 (32 kbit/s) octets at 16 kHz.
 * libavcodec's "siren" decoder reads G.722.1's bit stream: 14 regions, an ESF adjustment of 7,
 * 4 categorisation bits, no sample-rate or checksum bits (those are MSN Siren's, its "msnsiren"
 * decoder), MSB first, and it takes the bit budget from the packet size. G.722.1 Annex C
 * (28 regions, 32 kHz) is not supported by it.
 *
 * Packets reuse one reference-counted buffer (padded as libavcodec requires) while libavcodec
 * holds no other reference to it, so decoding allocates nothing per frame on our side.
 */
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codecs.h"

#define MAX_FRAME_BYTES 80

typedef struct {
  AVCodecContext *ctx;
  AVPacket *pkt;
  AVFrame *frame;
  AVBufferRef *buf;
  size_t frame_bytes;
  size_t frame_samples;
} lavc_dec;

static void lavc_close(void *st) {
  lavc_dec *d = st;
  avcodec_free_context(&d->ctx);
  av_packet_free(&d->pkt);
  av_frame_free(&d->frame);
  av_buffer_unref(&d->buf);
  free(d);
}

static lavc_dec *lavc_open(enum AVCodecID id, int sample_rate, size_t frame_bytes, int frame_ms) {
  size_t frame_samples = (size_t)(sample_rate / 1000 * frame_ms);
  const AVCodec *codec = avcodec_find_decoder(id);
  if (codec == NULL) return NULL;
  lavc_dec *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->frame_bytes = frame_bytes;
  d->frame_samples = frame_samples;
  d->ctx = avcodec_alloc_context3(codec);
  d->pkt = av_packet_alloc();
  d->frame = av_frame_alloc();
  d->buf = av_buffer_allocz(MAX_FRAME_BYTES + AV_INPUT_BUFFER_PADDING_SIZE);
  if (d->ctx == NULL || d->pkt == NULL || d->frame == NULL || d->buf == NULL) goto fail;
  d->ctx->sample_rate = sample_rate;
  av_channel_layout_default(&d->ctx->ch_layout, 1);
  d->ctx->block_align = (int)frame_bytes;
  d->ctx->bit_rate = (int64_t)frame_bytes * 8 * 1000 / frame_ms;
  if (avcodec_open2(d->ctx, codec, NULL) < 0) goto fail;
  return d;
fail:
  lavc_close(d);
  return NULL;
}

static inline int16_t from_float(float v) {
  long s = lrintf(v * 32768.0f);
  return (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
}

/* One frame; the samples written (0 when libavcodec rejects it or it does not fit). */
static size_t decode_frame(lavc_dec *d, const uint8_t *in, int16_t *out, size_t cap) {
  size_t n = 0;
  if (!av_buffer_is_writable(d->buf)) {
    /* libavcodec still holds the previous packet: take a fresh buffer rather than write under it. */
    av_buffer_unref(&d->buf);
    d->buf = av_buffer_allocz(MAX_FRAME_BYTES + AV_INPUT_BUFFER_PADDING_SIZE);
    if (d->buf == NULL) return 0;
  }
  memcpy(d->buf->data, in, d->frame_bytes);
  memset(d->buf->data + d->frame_bytes, 0, AV_INPUT_BUFFER_PADDING_SIZE);
  d->pkt->buf = d->buf; /* borrowed: avcodec_send_packet takes its own reference */
  d->pkt->data = d->buf->data;
  d->pkt->size = (int)d->frame_bytes;
  int ret = avcodec_send_packet(d->ctx, d->pkt);
  d->pkt->buf = NULL;
  d->pkt->data = NULL;
  d->pkt->size = 0;
  if (ret < 0) return 0;
  while (avcodec_receive_frame(d->ctx, d->frame) == 0) {
    AVFrame *f = d->frame;
    size_t m = (size_t)f->nb_samples;
    if (m > cap - n) m = cap - n;
    if (f->format == AV_SAMPLE_FMT_S16 || f->format == AV_SAMPLE_FMT_S16P) {
      memcpy(out + n, f->data[0], m * sizeof *out);
    } else if (f->format == AV_SAMPLE_FMT_FLT || f->format == AV_SAMPLE_FMT_FLTP) {
      const float *src = (const float *)f->data[0];
      for (size_t i = 0; i < m; i++) out[n + i] = from_float(src[i]);
    } else {
      m = 0;
    }
    n += m;
    av_frame_unref(f);
  }
  return n;
}

/*
 * Whole frames only: a frame that does not fit in `out` is not decoded at all. A frame the
 * decoder rejects (libavcodec's G.722.1 decoder drops a frame whose bits run out early, where
 * the ITU decoder would repeat the previous one) becomes silence so later frames keep their
 * place; a payload with no frame decoded decodes nothing.
 */
static size_t lavc_decode(void *st, const uint8_t *in, size_t len, int16_t *out, size_t cap) {
  lavc_dec *d = st;
  size_t n = 0, good = 0;
  for (size_t off = 0; off + d->frame_bytes <= len && cap - n >= d->frame_samples; off += d->frame_bytes) {
    size_t m = decode_frame(d, in + off, out + n, d->frame_samples);
    if (m > 0) good++;
    if (m < d->frame_samples) memset(out + n + m, 0, (d->frame_samples - m) * sizeof *out);
    n += d->frame_samples;
  }
  return good > 0 ? n : 0;
}

/* a = frame duration in ms: 20 (38 octets) or 30 (50 octets). */
static void *ilbc_open(int a, int b) {
  (void)b;
  if (a != 20 && a != 30) return NULL;
  return lavc_open(AV_CODEC_ID_ILBC, 8000, a == 20 ? 38 : 50, a);
}

const codec_ops ilbc_ops = {"ilbc", ilbc_open, lavc_decode, NULL, lavc_close};

/* a = octets per frame: 60 (24 kbit/s) or 80 (32 kbit/s). */
static void *siren_open(int a, int b) {
  (void)b;
  if (a != 60 && a != 80) return NULL;
  return lavc_open(AV_CODEC_ID_SIREN, 16000, (size_t)a, 20);
}

const codec_ops siren_ops = {"siren", siren_open, lavc_decode, NULL, lavc_close};

int lavc_has_decoder(const char *name) { return avcodec_find_decoder_by_name(name) != NULL; }

const char *lavc_version(void) { return av_version_info(); }
