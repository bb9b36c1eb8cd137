/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The capture thread's per-packet work for the most common packet, in C: an in-order RTP packet
 * of a flow the recorder already knows, in a plain IPv4 / UDP frame: Ethernet (802.1Q tags
 * allowed), Linux cooked (SLL, SLL2: captures on `any`) or raw IP. For such a packet, the TypeScript path (recorder/pipeline.ts → frames/ → demux/ →
 * calls/call-registry.ts onMedia → rtp/stream-stats.ts → spool/call-spool.ts append) does:
 * decode the layers, classify the payload as RTP, find the flow, decode the RTP header, check
 * the stream's SSRC and payload type, update the receiver statistics (RFC 3550 A.1/A.8) and
 * encode the spool record into the spool ring. This loop does the same for a run of frames and
 * stops, leaving the frame to TypeScript, at the first one that is anything else: another link
 * type, a fragment, a truncated or malformed layer, a VXLAN port, RTCP, a flow TypeScript has not
 * registered (recorder/fastpath/rtp-fast-path.ts registers a flow after its own path handled a
 * packet of it, and forgets it when the flow is dropped), another SSRC or payload type, a packet
 * that is not the next sequence number, a full spool ring, or the next sweep's capture time.
 * The checks are the TypeScript decoders' own, in the same order, so a frame taken here gets the
 * result the TypeScript path would have given it; test/recorder/fastpath/ compares both.
 *
 * rtpFastPath(stats, view, desc, from, to, nextSweep, vxlan, flowKeys, flows, ring, ringCtrl, io)
 *   stats     slab set of the statistics records (recorder/rtp/stream-stats.ts StatsSlab)
 *   view      DataView of the memory every frame of the run lies in
 *   desc      Float64Array, DESC_STRIDE per frame: offset in view, caplen, len, seconds,
 *             nanoseconds, link type
 *   from, to  the run: desc frames [from, to)
 *   nextSweep capture time (s) of the next sweep; frames at or after it are TypeScript's
 *   vxlan     Uint8Array(65536), 1 at UDP ports decoded as VXLAN
 *   flowKeys  OpenTable(3) entries: [src4, dst4, srcPort << 16 | dstPort, slot + 1]
 *   flows     Int32Array, FL_STRIDE per slot (FL_* below)
 *   ring      the spool ring's bytes (recorder/spool/spool-ring.ts), ringCtrl its indices
 *   io        Float64Array: in IO_W, IO_READ, IO_HEADROOM, IO_QUEUE_EMPTY; out IO_REACHED,
 *             IO_FRAMES, IO_BYTES, IO_VLAN, IO_MAX_TIME, IO_SLL, IO_SLL2, IO_RAW, IO_W, IO_READ
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../slab/slab_set.h"
#include "rtp_fast_path.h"

#define DESC_STRIDE 6
#define D_AT 0
#define D_CAPLEN 1
#define D_LEN 2
#define D_SEC 3
#define D_NSEC 4
#define D_LINK 5
#define LINKTYPE_ETHERNET 1
#define LINKTYPE_RAW 101
#define LINKTYPE_LINUX_SLL 113
#define LINKTYPE_IPV4 228
#define LINKTYPE_LINUX_SLL2 276

/* Flow slots (rtp-fast-path.ts FL_*). */
#define FL_STATS 0
#define FL_SSRC 1
#define FL_PT 2
#define FL_SID 3
#define FL_SPOOL_INDEX 4
#define FL_STRIDE 8

/* Statistics records (stream-stats.ts R_*), R_STRIDE doubles each in SLAB_BYTES pages. */
#define R_RECEIVED 0
#define R_MAX_SEQ 1
#define R_MAX_EXT 2
#define R_BAD_SEQ 3
#define R_STARTED 4
#define R_CLOCK_RATE 5
#define R_HAVE_TIMING 6
#define R_LAST_TS 7
#define R_JITTER_COUNT 8
#define R_JITTER 9
#define R_MAX_JITTER 10
#define R_JITTER_SUM 11
#define R_LAST_TIMED 12
#define R_LAST_SEEN 13
#define R_STRIDE 16
#define RECORDS_PER_PAGE (SLAB_BYTES / (R_STRIDE * 8))

/* io slots. */
#define IO_W 0
#define IO_READ 1
#define IO_HEADROOM 2
#define IO_QUEUE_EMPTY 3
#define IO_REACHED 4
#define IO_FRAMES 5
#define IO_BYTES 6
#define IO_VLAN 7
#define IO_MAX_TIME 8
#define IO_SLL 9
#define IO_SLL2 10
#define IO_RAW 11
#define IO_COUNT 12

/* Spool ring (spool-ring.ts) and PACKET record (spool-format.ts). */
#define C_READ 1
#define MSG_HEAD 8
#define KIND_PAD 0
#define KIND_RECORD 1
#define RECORD_SYNC 0xa5
#define RECORD_PACKET 1
#define RECORD_OVERHEAD 8
#define PACKET_FIXED 18
#define MAX_PAYLOAD (0xffff - PACKET_FIXED)

static inline uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static inline uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline void le16(uint8_t *p, uint32_t v) {
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
}
static inline void le32(uint8_t *p, uint32_t v) {
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = v >> 24;
}

/* OpenTable(3) lookup (recorder/core/open-table.ts tableHome and entry). */
static int32_t flow_slot(const int32_t *keys, uint32_t entries, int32_t a, int32_t b, int32_t c) {
  const uint32_t mask = entries - 1;
  uint32_t h = (uint32_t)a * 0x9e3779b1u ^ (uint32_t)b * 0x85ebca77u ^ (uint32_t)c * 0xc2b2ae3du;
  h ^= h >> 15;
  for (uint32_t i = h & mask, probes = 0; probes < entries; i = (i + 1) & mask, probes++) {
    const int32_t *e = keys + 4 * (size_t)i;
    if (e[3] == 0) return -1;
    if (e[0] == a && e[1] == b && e[2] == c) return e[3] - 1;
  }
  return -1;
}

static napi_value rtp_fast_path(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  void *mem = NULL, *descp = NULL, *vxp = NULL, *keysp = NULL, *flowsp = NULL, *ringp = NULL, *ctrlp = NULL, *iop = NULL;
  size_t mem_len = 0, desc_len = 0, vx_len = 0, keys_len = 0, flows_len = 0, ring_len = 0, ctrl_len = 0, io_len = 0;
  napi_value ab;
  size_t view_off;
  uint32_t from, to;
  double next_sweep;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const slab_set *stats = argc < 12 ? NULL : slab_set_of(env, argv[0]);
  if (stats == NULL || napi_get_dataview_info(env, argv[1], &mem_len, &mem, &ab, &view_off) != napi_ok ||
      !typed_array_of(env, argv[2], napi_float64_array, &descp, &desc_len) || napi_get_value_uint32(env, argv[3], &from) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &to) != napi_ok || napi_get_value_double(env, argv[5], &next_sweep) != napi_ok ||
      !typed_array_of(env, argv[6], napi_uint8_array, &vxp, &vx_len) || vx_len < 65536 ||
      !typed_array_of(env, argv[7], napi_int32_array, &keysp, &keys_len) || !typed_array_of(env, argv[8], napi_int32_array, &flowsp, &flows_len) ||
      napi_get_buffer_info(env, argv[9], &ringp, &ring_len) != napi_ok || !typed_array_of(env, argv[10], napi_int32_array, &ctrlp, &ctrl_len) ||
      !typed_array_of(env, argv[11], napi_float64_array, &iop, &io_len) || io_len < IO_COUNT || to > desc_len / DESC_STRIDE || from > to ||
      keys_len < 4 || ((keys_len / 4) & (keys_len / 4 - 1)) != 0 || (ring_len & (ring_len - 1)) != 0 || ctrl_len < 2) {
    napi_throw_type_error(env, NULL, "rtpFastPath: bad arguments");
    return NULL;
  }
  const uint8_t *base = mem;
  const double *desc = descp;
  const uint8_t *vxlan = vxp;
  const int32_t *keys = keysp;
  const int32_t *flows = flowsp;
  uint8_t *ring = ringp;
  const int32_t *ctrl = ctrlp;
  double *io = iop;
  const uint32_t entries = (uint32_t)(keys_len / 4);
  const uint32_t ring_size = (uint32_t)ring_len, ring_mask = ring_size - 1;
  uint32_t w = (uint32_t)io[IO_W], read = (uint32_t)io[IO_READ];
  const uint32_t headroom = (uint32_t)io[IO_HEADROOM];
  const bool queue_empty = io[IO_QUEUE_EMPTY] != 0;
  double frames = 0, bytes = 0, vlan_frames = 0, sll = 0, sll2 = 0, raw = 0, max_time = io[IO_MAX_TIME];

  uint32_t i = from;
  for (; i < to; i++) {
    const double *d = desc + (size_t)i * DESC_STRIDE;
    /* pipeline.ts: a sweep is due at this frame: TypeScript's push runs it. */
    const double arrival = d[D_SEC] + d[D_NSEC] / 1e9;
    if (next_sweep < 0 || arrival >= next_sweep) break;
    /* The spool record keeps 32-bit seconds (TypeScript writes them modulo 2^32): leave odd times to it. */
    if (!(d[D_SEC] >= 0 && d[D_SEC] < 4294967296.0 && d[D_NSEC] >= 0 && d[D_NSEC] < 1e9)) break;
    const double at_d = d[D_AT], caplen_d = d[D_CAPLEN];
    if (at_d < 0 || caplen_d < 0 || at_d + caplen_d > (double)mem_len) break;
    const uint8_t *f = base + (size_t)at_d;
    const uint32_t end = (uint32_t)caplen_d;
    const int link = (int)d[D_LINK];
    uint32_t type, off, tags = 0;
    if (link == LINKTYPE_ETHERNET) {
      /* frames/ethernet.ts */
      if (end < 14) break;
      type = be16(f + 12);
      off = 14;
      while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        if (tags == 8 || end - off < 4) break;
        type = be16(f + off + 2);
        off += 4;
        tags++;
      }
    } else if (link == LINKTYPE_LINUX_SLL) {
      /* frames/linux-sll.ts: protocol at 14 of 16 */
      if (end < 16) break;
      type = be16(f + 14);
      off = 16;
    } else if (link == LINKTYPE_LINUX_SLL2) {
      /* protocol at 0 of 20 */
      if (end < 20) break;
      type = be16(f);
      off = 20;
    } else if (link == LINKTYPE_RAW || link == LINKTYPE_IPV4) {
      /* frame-decoder.ts: the version nibble says IPv4 */
      if (end < 1 || f[0] >> 4 != 4) break;
      type = 0x0800;
      off = 0;
    } else
      break;
    if (type != 0x0800) break; /* also a tag loop cut short: its type is still a tag */
    /* ip/ipv4.ts: whole, unfragmented, UDP */
    if (end - off < 20 || f[off] >> 4 != 4) break;
    const uint32_t ihl = (uint32_t)(f[off] & 0x0f) * 4;
    if (ihl < 20) break;
    const uint32_t total = be16(f + off + 2);
    const uint32_t total_len = total == 0 ? end - off : total;
    if (total_len < ihl || end - off < ihl || off + total_len > end) break;
    if ((be16(f + off + 6) & 0x3fff) != 0 || f[off + 9] != 17) break;
    const uint32_t src4 = be32(f + off + 12), dst4 = be32(f + off + 16);
    const uint32_t ip_end = off + total_len;
    off += ihl;
    /* udp/udp.ts, then frame-decoder.ts's VXLAN port check */
    if (ip_end - off < 8) break;
    const uint32_t src_port = be16(f + off), dport = be16(f + off + 2), ulen = be16(f + off + 4);
    if (ulen != 0 && ulen < 8) break;
    const uint32_t want = ulen == 0 ? ip_end - off : ulen;
    if (off + want > ip_end) break;
    if (vxlan[dport]) break;
    const uint8_t *pl = f + off + 8;
    const uint32_t len = want - 8;
    /* demux/classify.ts: RTP, not RTCP */
    if (len == 0 || pl[0] < 128 || pl[0] > 191) break;
    if (len >= 8 && pl[1] >= 192 && pl[1] <= 223 && (be16(pl + 2) + 1) * 4 <= len) break;
    if (len < 12 || ((pl[1] & 0x7f) >= 72 && (pl[1] & 0x7f) <= 76) || len < 12 + (uint32_t)(pl[0] & 0x0f) * 4) break;
    /* calls/call-registry.ts flow(): a registered flow */
    const int32_t slot = flow_slot(keys, entries, (int32_t)src4, (int32_t)dst4, (int32_t)(src_port << 16 | dport));
    if (slot < 0 || (size_t)(slot + 1) * FL_STRIDE > flows_len) break;
    const int32_t *fl = flows + (size_t)slot * FL_STRIDE;
    /* rtp/header.ts */
    uint32_t hdr = 12 + (uint32_t)(pl[0] & 0x0f) * 4;
    if (pl[0] & 0x10) {
      if (hdr + 4 > len) break;
      hdr += 4 + be16(pl + hdr + 2) * 4;
      if (hdr > len) break;
    }
    uint32_t pad = 0;
    if (pl[0] & 0x20) {
      if (len == hdr) break;
      pad = pl[len - 1];
      if (pad == 0 || pad > len - hdr) break;
    }
    const bool marker = (pl[1] & 0x80) != 0;
    const uint32_t pt = pl[1] & 0x7f, seq = be16(pl + 2), ts = be32(pl + 4), ssrc = be32(pl + 8);
    if ((int32_t)ssrc != fl[FL_SSRC] || (int32_t)pt != fl[FL_PT]) break;
    /* rtp/stream-stats.ts update(): only the next sequence number of a started stream */
    const uint32_t stats_slot = (uint32_t)fl[FL_STATS];
    if (fl[FL_STATS] < 0 || stats_slot / RECORDS_PER_PAGE >= stats->n) break;
    double *r = (double *)(stats->base[stats_slot / RECORDS_PER_PAGE]) + (size_t)(stats_slot % RECORDS_PER_PAGE) * R_STRIDE;
    if (r[R_STARTED] == 0 || ((seq - (uint32_t)r[R_MAX_SEQ]) & 0xffff) != 1) break;
    /* spool/call-spool.ts append → spool-writer.ts reserveRecord → spool-ring.ts begin */
    const uint32_t payload_len = len - hdr - pad;
    uint32_t msg_total = 0, pad_msg = 0;
    const bool spool = fl[FL_SPOOL_INDEX] >= 0;
    if (spool) {
      if (!queue_empty || payload_len > MAX_PAYLOAD || ring_size < 64) break;
      const uint32_t body = RECORD_OVERHEAD + PACKET_FIXED + payload_len;
      msg_total = (MSG_HEAD + body + 7) & ~7u;
      const uint32_t pos = w & ring_mask;
      pad_msg = pos + msg_total > ring_size ? ring_size - pos : 0;
      const uint32_t need = pad_msg + msg_total + headroom;
      if ((uint32_t)(w - read) + (uint64_t)need > ring_size) {
        read = (uint32_t)__atomic_load_n(&ctrl[C_READ], __ATOMIC_ACQUIRE);
        if ((uint32_t)(w - read) + (uint64_t)need > ring_size) break;
      }
    }
    /* Taken: the statistics (the in-order case of update() and jitterUpdate(), flags 0)… */
    r[R_RECEIVED] += 1;
    r[R_LAST_SEEN] = arrival;
    r[R_MAX_EXT] += 1;
    r[R_MAX_SEQ] = seq;
    r[R_BAD_SEQ] = -1;
    const double clock = r[R_CLOCK_RATE];
    if (clock > 0) {
      if (r[R_HAVE_TIMING] != 0) {
        /* A.8: D = (R_j - R_i) - (S_j - S_i), timestamps compared mod 2^32 (serial.ts seqDiff). */
        const double dd = (arrival - r[R_LAST_TIMED]) * clock - (double)(int32_t)(ts - (uint32_t)r[R_LAST_TS]);
        const double j = r[R_JITTER] + (fabs(dd) - r[R_JITTER]) / 16;
        r[R_JITTER] = j;
        if (j > r[R_MAX_JITTER]) r[R_MAX_JITTER] = j;
        r[R_JITTER_SUM] = r[R_JITTER_SUM] + j;
        r[R_JITTER_COUNT] += 1;
      }
      r[R_HAVE_TIMING] = 1;
      r[R_LAST_TIMED] = arrival;
      r[R_LAST_TS] = ts;
    }
    /* …and the spool record (spool-format.ts writePacketRecord; the writer seals the CRC). */
    if (spool) {
      if (pad_msg > 0) {
        uint8_t *m = ring + (w & ring_mask);
        memset(m, 0, MSG_HEAD);
        m[0] = KIND_PAD;
        m[1] = (pad_msg - MSG_HEAD) & 0xff;
        m[2] = ((pad_msg - MSG_HEAD) >> 8) & 0xff;
        m[3] = (pad_msg - MSG_HEAD) >> 16;
        w += pad_msg;
      }
      const uint32_t body = RECORD_OVERHEAD + PACKET_FIXED + payload_len;
      uint8_t *m = ring + (w & ring_mask);
      m[0] = KIND_RECORD;
      m[1] = body & 0xff;
      m[2] = (body >> 8) & 0xff;
      m[3] = body >> 16;
      le32(m + 4, (uint32_t)fl[FL_SID]);
      uint8_t *rec = m + MSG_HEAD;
      rec[0] = RECORD_SYNC;
      rec[1] = RECORD_PACKET;
      le16(rec + 2, PACKET_FIXED + payload_len);
      le16(rec + 4, (uint32_t)fl[FL_SPOOL_INDEX]);
      le16(rec + 6, seq);
      le32(rec + 8, ts);
      le32(rec + 12, (uint32_t)d[D_SEC]);
      le32(rec + 16, (uint32_t)d[D_NSEC]);
      le16(rec + 20, (marker ? 0x80 : 0) | (pt & 0x7f));
      memcpy(rec + 22, pl + hdr, payload_len);
      w += msg_total;
    }
    frames += 1;
    bytes += d[D_LEN];
    if (tags > 0) vlan_frames += 1;
    if (link == LINKTYPE_LINUX_SLL) sll += 1;
    else if (link == LINKTYPE_LINUX_SLL2) sll2 += 1;
    else if (link != LINKTYPE_ETHERNET) raw += 1;
    if (arrival > max_time) max_time = arrival;
  }
  io[IO_REACHED] = i;
  io[IO_FRAMES] = frames;
  io[IO_BYTES] = bytes;
  io[IO_VLAN] = vlan_frames;
  io[IO_MAX_TIME] = max_time;
  io[IO_SLL] = sll;
  io[IO_SLL2] = sll2;
  io[IO_RAW] = raw;
  io[IO_W] = w;
  io[IO_READ] = read;
  return NULL;
}

void rtp_fast_path_register(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"rtpFastPath", NULL, rtp_fast_path, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
}
