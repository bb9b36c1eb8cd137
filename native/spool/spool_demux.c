/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The spool writer thread's per-record loop in C (recorder/spool/spool-consumer.ts holds
 * everything else, and the same loop in TypeScript for when this addon is absent).
 *
 * spoolDemux walks the spool ring's published messages (recorder/spool/spool-ring.ts) and, for
 * each PACKET record of a call whose batch it may fill, copies the record into the call's
 * current batch chunk and seals its CRC there (recorder/spool/spool-format.ts). It returns to
 * TypeScript at the first message it leaves alone (control messages, STREAM records, unknown
 * calls, a full chunk, anything unexpected), after a record that makes its call's batch due for
 * writing, or after `limit` bytes. In JavaScript this loop cost the writer ~1 µs a packet
 * (the copy, the CRC at ~1.3 ns a byte, the dispatch): as much as the capture thread's whole
 * packet path.
 *
 * Shared layouts (the constants mirror recorder/spool/batch-slots.ts; a test compares the
 * bytes this loop writes with the TypeScript loop's):
 *   keys   Int32Array, open addressing, linear probing from sid & (n - 1): [sid, slot + 1]
 *          pairs, slot + 1 == 0 is an empty entry.
 *   state  Int32Array, ST_STRIDE int32s per slot (the ST_* fields below).
 *   caps   Float64Array, per slot: capture time (ms) of the batch's first packet, NaN if none.
 *   chunks CHUNK_BYTES each, SLAB_CHUNKS to a slab of a slab set (native/slab/slab_set.c).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "spool_demux.h"
#include "../slab/slab_set.h"

/* Ring message framing (spool-ring.ts). */
#define MSG_HEAD 8
#define KIND_PAD 0
#define KIND_RECORD 1
/* Record framing (spool-format.ts): sync, type, u16 body length, body, u32 CRC. */
#define RECORD_SYNC 0xa5
#define RECORD_PACKET 1
#define RECORD_HEAD 4
#define RECORD_TRAILER 4
#define PACKET_FIXED 18
#define P_SEC 8
#define P_NSEC 12
/* Per-slot state (batch-slots.ts). */
#define ST_FAST 0
#define ST_CHUNK 1
#define ST_USED 2
#define ST_BYTES 3
#define ST_SEAL_FROM 4
#define ST_RECORDS 5
#define ST_PACKETS 6
#define ST_MAX_BYTES 7
#define ST_FLUSH_MS 8
#define ST_STRIDE 9
#define CHUNK_BYTES 8192
#define SLAB_CHUNKS (SLAB_BYTES / CHUNK_BYTES)
/* Outcomes (out[1]). */
#define OUT_DONE 0
#define OUT_STOP 1
#define OUT_DUE 2

/* CRC-32C (Castagnoli, RFC 3720 §B.4: reflected polynomial 0x82F63B78, initial value and final
 * XOR 0xFFFFFFFF), the records' checksum since spool format version 2 because CPUs compute it:
 * the SSE4.2 crc32 instruction (x86-64) or ARMv8's crc32c*, 8 bytes a step. Without them,
 * slicing-by-8: table s holds the CRC of byte n followed by s zero bytes. */
static uint32_t crc_table[8][256];

static void crc_tables(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
    crc_table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++)
    for (int s = 1; s < 8; s++) crc_table[s][n] = crc_table[0][crc_table[s - 1][n] & 0xff] ^ (crc_table[s - 1][n] >> 8);
}

static uint32_t crc32c_sw(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (; n >= 8; p += 8, n -= 8) {
    uint32_t a = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    c = crc_table[7][a & 0xff] ^ crc_table[6][(a >> 8) & 0xff] ^ crc_table[5][(a >> 16) & 0xff] ^
        crc_table[4][a >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
  }
  while (n--) c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define HAVE_CRC_HW 1
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(const uint8_t *p, size_t n) {
  uint64_t c = 0xffffffffu;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian: byte order as the reflected CRC consumes it */
    c = _mm_crc32_u64(c, v);
  }
  uint32_t c32 = (uint32_t)c;
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}
static int crc_hw_present(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
#define HAVE_CRC_HW 1
static uint32_t crc32c_hw(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = __crc32cd(c, v);
  }
  while (n--) c = __crc32cb(c, *p++);
  return ~c;
}
static int crc_hw_present(void) { return 1; }
#endif

static uint32_t (*crc32c)(const uint8_t *, size_t) = crc32c_sw;

static void crc_init(void) {
  crc_tables();
#ifdef HAVE_CRC_HW
  if (crc_hw_present()) crc32c = crc32c_hw;
#endif
}

static inline uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int32_t lookup(const int32_t *keys, uint32_t entries, uint32_t sid) {
  uint32_t mask = entries - 1;
  for (uint32_t h = sid & mask, probes = 0; probes < entries; h = (h + 1) & mask, probes++) {
    int32_t v = keys[2 * h + 1];
    if (v == 0) return -1;
    if ((uint32_t)keys[2 * h] == sid) return v - 1;
  }
  return -1;
}

/*
 * spoolDemux(set, ring, r, w, limit, keys, state, caps, out): from ring index r (bytes mod 2^32)
 * up to w, at most about `limit` bytes. out[0] = the index reached (int32 bits), out[1] =
 * OUT_DONE (reached w or limit), OUT_STOP (the message at out[0] is TypeScript's) or OUT_DUE
 * (the slot out[2]'s batch is due: its last record was the one before out[0]).
 */
static napi_value spool_demux(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  void *ringp = NULL, *keysp = NULL, *statep = NULL, *capsp = NULL, *outp = NULL;
  size_t ring_len = 0, keys_len = 0, state_len = 0, caps_len = 0, out_len = 0;
  uint32_t r, w, limit;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const slab_set *set = argc < 9 ? NULL : slab_set_of(env, argv[0]);
  if (set == NULL ||
      napi_get_buffer_info(env, argv[1], &ringp, &ring_len) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &r) != napi_ok || napi_get_value_uint32(env, argv[3], &w) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &limit) != napi_ok || !typed_array_of(env, argv[5], napi_int32_array, &keysp, &keys_len) ||
      !typed_array_of(env, argv[6], napi_int32_array, &statep, &state_len) ||
      !typed_array_of(env, argv[7], napi_float64_array, &capsp, &caps_len) ||
      !typed_array_of(env, argv[8], napi_int32_array, &outp, &out_len) || out_len < 3 || ring_len < MSG_HEAD ||
      (ring_len & (ring_len - 1)) != 0 || keys_len < 2 || ((keys_len / 2) & (keys_len / 2 - 1)) != 0) {
    napi_throw_type_error(env, NULL, "spoolDemux: bad arguments");
    return NULL;
  }
  const uint8_t *ring = ringp;
  const int32_t *keys = keysp;
  int32_t *state = statep;
  double *caps = capsp;
  int32_t *out = outp;
  const uint32_t mask = (uint32_t)ring_len - 1, entries = (uint32_t)(keys_len / 2);
  const uint32_t start = r;
  int32_t code = OUT_DONE, due = -1;
  while (r != w && r - start < limit) {
    const uint8_t *m = ring + (r & mask);
    const uint32_t len = (uint32_t)m[1] | (uint32_t)m[2] << 8 | (uint32_t)m[3] << 16;
    const uint32_t size = (MSG_HEAD + len + 7) & ~7u;
    if ((r & mask) + size > ring_len) {
      code = OUT_STOP; /* not a message this loop understands: TypeScript decides */
      break;
    }
    if (m[0] == KIND_PAD) {
      r += size;
      continue;
    }
    const uint8_t *rec = m + MSG_HEAD;
    if (m[0] != KIND_RECORD || len < RECORD_HEAD + PACKET_FIXED + RECORD_TRAILER || rec[0] != RECORD_SYNC ||
        rec[1] != RECORD_PACKET || RECORD_HEAD + ((uint32_t)rec[2] | (uint32_t)rec[3] << 8) + RECORD_TRAILER != len) {
      code = OUT_STOP;
      break;
    }
    const int32_t slot = lookup(keys, entries, le32(m + 4));
    if (slot < 0 || (size_t)(slot + 1) * ST_STRIDE > state_len || (size_t)slot >= caps_len) {
      code = OUT_STOP;
      break;
    }
    int32_t *s = state + (size_t)slot * ST_STRIDE;
    const int32_t chunk = s[ST_CHUNK];
    if (!s[ST_FAST] || chunk < 0 || (uint32_t)chunk / SLAB_CHUNKS >= set->n || s[ST_USED] < 0 ||
        (uint32_t)s[ST_USED] + len > CHUNK_BYTES) {
      code = OUT_STOP;
      break;
    }
    uint8_t *dst = set->base[chunk / SLAB_CHUNKS] + (size_t)(chunk % SLAB_CHUNKS) * CHUNK_BYTES + s[ST_USED];
    memcpy(dst, rec, len);
    const uint32_t crc = crc32c(dst, len - RECORD_TRAILER);
    dst[len - 4] = crc & 0xff;
    dst[len - 3] = (crc >> 8) & 0xff;
    dst[len - 2] = (crc >> 16) & 0xff;
    dst[len - 1] = crc >> 24;
    s[ST_USED] += (int32_t)len;
    s[ST_BYTES] += (int32_t)len;
    s[ST_RECORDS]++;
    s[ST_PACKETS]++;
    /* The same double arithmetic as the TypeScript loop, so both cut batches alike. */
    const double cap_ms = (double)le32(rec + RECORD_HEAD + P_SEC) * 1000 + (double)le32(rec + RECORD_HEAD + P_NSEC) / 1e6;
    if (isnan(caps[slot])) caps[slot] = cap_ms;
    r += size;
    if (s[ST_BYTES] - s[ST_SEAL_FROM] >= s[ST_MAX_BYTES] || cap_ms - caps[slot] >= s[ST_FLUSH_MS]) {
      code = OUT_DUE;
      due = slot;
      break;
    }
  }
  out[0] = (int32_t)r;
  out[1] = code;
  out[2] = due;
  return NULL;
}

/* spoolCrc32c(buf, software): the loop's checksum of a whole Buffer, through the hardware path
 * (where the CPU has one) or the table path: for tests, which compare both with TypeScript's. */
static napi_value spool_crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  void *data = NULL;
  size_t len = 0;
  bool software = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok ||
      napi_get_value_bool(env, argv[1], &software) != napi_ok) {
    napi_throw_type_error(env, NULL, "spoolCrc32c: bad arguments");
    return NULL;
  }
  napi_create_uint32(env, software ? crc32c_sw(data, len) : crc32c(data, len), &out);
  return out;
}

static uv_once_t crc_once = UV_ONCE_INIT;

void spool_demux_register(napi_env env, napi_value exports) {
  uv_once(&crc_once, crc_init);
  napi_property_descriptor methods[] = {
      {"spoolDemux", NULL, spool_demux, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spoolCrc32c", NULL, spool_crc32c, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
}
