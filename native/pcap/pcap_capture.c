/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Live capture over libpcap for Node (N-API 8), delivering packets to JS in batches.
 *
 * Design: event-driven on the JS thread, not a capture thread.
 *   pcap is opened non-blocking; a uv_poll watches pcap_get_selectable_fd(). When the fd is
 *   readable we pcap_dispatch() into ONE preallocated batch buffer and make ONE JS call
 *   (buffer, count). Why not a thread + napi_threadsafe_function:
 *   - a pcap_t is not thread-safe; with one thread, stats() and close() need no locks and can
 *     never race a pcap_dispatch() blocked in another thread;
 *   - the JS callback is synchronous, so the single batch buffer is free again when it returns:
 *     no buffer pool, no hand-over protocol, no per-packet or per-batch allocation;
 *   - while JS is busy, packets wait in the kernel ring (bufferSize). A thread would only move
 *     that queue into our memory; overload still ends in drops, and those the kernel counts
 *     (ps_drop) whichever design is used.
 *   The cost is Windows, which has no selectable fd (see "Windows" below).
 *
 * Memory safety: the batch buffer is a JS Buffer we hold a reference to, so frames handed to
 * JS point into GC-owned memory: a subarray kept past the callback (or past close()) sees
 * later bytes, never freed memory. The C state is freed only after both the JS wrapper is
 * collected and libuv has closed our handles.
 *
 * Batch record layout (host byte order; every record starts 8-byte aligned):
 *
 *    0               4               8               12              16
 *   +---------------+---------------+---------------+---------------+------------------+
 *   | tsSec (u32)   | tsNsec (u32)  | caplen (u32)  | len (u32)     | caplen bytes,    |
 *   | since 1970    | 0..999999999  | bytes kept    | on the wire   | 0..7 pad bytes   |
 *   +---------------+---------------+---------------+---------------+------------------+
 *
 * Windows (Npcap) — how to port; not built or tested yet:
 *   - Npcap SDK (https://npcap.com/#download): binding.gyp's OS=="win" branch adds
 *     <sdk>/Include and links <sdk>/Lib/x64/wpcap.lib (set NPCAP_SDK, default C:/npcap-sdk).
 *     Delay-load wpcap.dll and call SetDllDirectory("%SystemRoot%\System32\Npcap") before
 *     the first pcap call, since Npcap does not install into the DLL search path.
 *   - pcap_get_selectable_fd() does not exist there, so the uv_poll must become a small waiter
 *     thread: WaitForMultipleObjects({pcap_getevent(p), stopEvent}), then uv_async_send()
 *     to the loop and wait until the JS thread has drained. pcap_dispatch(), stats() and
 *     close() stay on the JS thread, so everything else in this file is unchanged.
 *     Only drain() runs from the uv_async callback instead of on_readable().
 *   - pcap_init(PCAP_CHAR_ENC_UTF_8) (done below) makes Npcap's error text UTF-8.
 *   - Npcap supports nanosecond precision only for some timestamp types; the micro
 *     fallback below covers it.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include "batch_send.h"
#include "fs_sync.h"
#include "../slab/slab_set.h"
#include "../spool/spool_demux.h"
#include "../fastpath/rtp_fast_path.h"
#include <uv.h>
#include <pcap/pcap.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#error "Windows needs the waiter-thread wakeup described at the top of this file"
#endif

#define RECORD_HEADER 16u
#define RECORD_ALIGN 8u
#define DEFAULT_SNAPLEN 262144
#define DEFAULT_BUFFER_SIZE (32 << 20)
#define DEFAULT_TIMEOUT_MS 100
#define DEFAULT_BATCH 1024
#define MAX_BATCH (1 << 20)
/* A batch never needs more than this; big snaplens are then limited by bytes, not count. */
#define BATCH_BYTES_CAP (4u << 20)

typedef enum { ST_OPEN, ST_FAILED, ST_CLOSED } cap_state;

typedef struct capture {
  napi_env env;
  pcap_t *pcap;
  cap_state state;
  uv_poll_t poll;
  uv_timer_t timer; /* only for pcap_get_required_select_timeout() */
  int handles_open; /* uv handles whose close callback has not run yet */
  bool finalized;   /* the JS wrapper was collected */
  bool timer_on;
  int poll_errors; /* POLLERR reports in a row without packets */
  napi_ref self_ref; /* from napi_wrap: strong while open so an unreferenced capture keeps running */
  napi_ref on_batch_ref;
  napi_ref on_error_ref; /* NULL: errors become uncaught exceptions */
  napi_ref buf_ref;
  napi_async_context async_ctx;
  napi_async_cleanup_hook_handle cleanup_hook;
  uint8_t *buf;
  size_t buf_cap;
  size_t used;
  uint32_t count;
  uint32_t batch_max;
  size_t worst_record;
  uint32_t snaplen;
  bool nano;
  char iface[256]; /* for error messages */
  /* libpcap's counters are u_int and wrap; keep 53-bit totals from deltas. */
  struct pcap_stat last_raw;
  double total_recv, total_drop, total_ifdrop;
} capture_t;

typedef struct open_opts {
  char iface[256];
  char *filter; /* malloc'd, NULL when absent */
  int32_t snaplen, buffer_size, timeout_ms;
  uint32_t batch_size;
  bool promisc, immediate;
} open_opts;

/* ---------- small N-API helpers ---------- */

static void throw_code(napi_env env, const char *code, const char *msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, code, msg);
}

static napi_value make_error(napi_env env, const char *code, const char *msg) {
  napi_value jcode, jmsg, err;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg);
  napi_create_error(env, jcode, jmsg, &err);
  return err;
}

/* Reads obj[name]; *present is false for undefined/null. */
static bool get_prop(napi_env env, napi_value obj, const char *name, napi_value *out, bool *present) {
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, out) != napi_ok) return false;
  if (napi_typeof(env, *out, &t) != napi_ok) return false;
  *present = t != napi_undefined && t != napi_null;
  return true;
}

static bool get_int_opt(napi_env env, napi_value obj, const char *name, int32_t lo, int32_t hi, int32_t *out) {
  napi_value v;
  bool present;
  double d;
  char msg[128];
  if (!get_prop(env, obj, name, &v, &present)) return false;
  if (!present) return true;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != (double)(int64_t)d || d < lo || d > hi) {
    snprintf(msg, sizeof msg, "option %s must be an integer in %d..%d", name, (int)lo, (int)hi);
    throw_code(env, "ERR_INVALID_ARG_VALUE", msg);
    return false;
  }
  *out = (int32_t)d;
  return true;
}

static bool get_bool_opt(napi_env env, napi_value obj, const char *name, bool *out) {
  napi_value v;
  bool present;
  char msg[128];
  if (!get_prop(env, obj, name, &v, &present)) return false;
  if (!present) return true;
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    snprintf(msg, sizeof msg, "option %s must be a boolean", name);
    throw_code(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  return true;
}

static bool parse_opts(napi_env env, napi_value obj, open_opts *o) {
  napi_value v;
  bool present;
  size_t n;
  int32_t batch = DEFAULT_BATCH;
  napi_valuetype t;

  memset(o, 0, sizeof *o);
  o->snaplen = DEFAULT_SNAPLEN;
  o->buffer_size = DEFAULT_BUFFER_SIZE;
  o->timeout_ms = DEFAULT_TIMEOUT_MS;
  o->promisc = true;
  if (napi_typeof(env, obj, &t) != napi_ok || t != napi_object) {
    throw_code(env, "ERR_INVALID_ARG_TYPE", "options must be an object");
    return false;
  }
  if (!get_prop(env, obj, "iface", &v, &present)) return false;
  if (!present || napi_get_value_string_utf8(env, v, o->iface, sizeof o->iface, &n) != napi_ok || n == 0 ||
      n >= sizeof o->iface - 1) {
    throw_code(env, "ERR_INVALID_ARG_VALUE", "option iface must be a non-empty interface name");
    return false;
  }
  if (!get_prop(env, obj, "filter", &v, &present)) return false;
  if (present) {
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
      throw_code(env, "ERR_INVALID_ARG_TYPE", "option filter must be a string");
      return false;
    }
    o->filter = malloc(n + 1);
    if (o->filter == NULL) {
      throw_code(env, "ERR_MEMORY", "out of memory");
      return false;
    }
    napi_get_value_string_utf8(env, v, o->filter, n + 1, &n);
  }
  if (!get_int_opt(env, obj, "snaplen", 1, 262144, &o->snaplen) ||
      !get_int_opt(env, obj, "bufferSize", 0, INT32_MAX, &o->buffer_size) ||
      !get_int_opt(env, obj, "timeoutMs", 0, 60000, &o->timeout_ms) ||
      !get_int_opt(env, obj, "batchSize", 1, MAX_BATCH, &batch) || !get_bool_opt(env, obj, "promisc", &o->promisc) ||
      !get_bool_opt(env, obj, "immediate", &o->immediate))
    return false;
  o->batch_size = (uint32_t)batch;
  return true;
}

/* ---------- lifetime ---------- */

static void free_capture(capture_t *c) {
  free(c);
}

static void on_handle_closed(uv_handle_t *h) {
  capture_t *c = h->data;
  if (--c->handles_open > 0) return;
  /* Kept until now so a worker's teardown waits for our handles (see on_env_teardown). */
  if (c->cleanup_hook != NULL) {
    napi_remove_async_cleanup_hook(c->cleanup_hook);
    c->cleanup_hook = NULL;
  }
  if (c->finalized) free_capture(c);
}

/* Idempotent. Safe from inside the batch callback: drain() re-checks state after calling JS. */
static void close_capture(capture_t *c) {
  napi_env env = c->env;
  if (c->state == ST_CLOSED) return;
  c->state = ST_CLOSED;
  uv_poll_stop(&c->poll);
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->poll, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  pcap_close(c->pcap);
  c->pcap = NULL;
  c->buf = NULL; /* the Buffer itself lives on while JS holds it */
  napi_delete_reference(env, c->on_batch_ref);
  c->on_batch_ref = NULL;
  if (c->on_error_ref != NULL) napi_delete_reference(env, c->on_error_ref);
  c->on_error_ref = NULL;
  napi_delete_reference(env, c->buf_ref);
  c->buf_ref = NULL;
  napi_async_destroy(env, c->async_ctx);
  c->async_ctx = NULL;
  napi_reference_unref(env, c->self_ref, NULL); /* the wrapper may now be collected */
}

static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  close_capture(arg); /* the hook is removed once both handles are closed */
}

static void finalize_capture(napi_env env, void *data, void *hint) {
  capture_t *c = data;
  (void)hint;
  /* Only reachable after close (self_ref was strong until then), except at env teardown,
   * where on_env_teardown has already closed it. */
  napi_delete_reference(env, c->self_ref);
  c->self_ref = NULL;
  c->finalized = true;
  if (c->handles_open == 0) free_capture(c);
}

/* ---------- delivery ---------- */

/* Calls fn like an event callback: async context, nextTick/microtasks after, throw → uncaught. */
static void call_js(capture_t *c, napi_value fn, size_t argc, const napi_value *argv) {
  napi_env env = c->env;
  napi_value recv = NULL, exc;
  bool pending = false;
  napi_get_reference_value(env, c->self_ref, &recv);
  if (recv == NULL) napi_get_undefined(env, &recv);
  if (napi_make_callback(env, c->async_ctx, recv, fn, argc, argv, NULL) != napi_ok) {
    napi_is_exception_pending(env, &pending);
    if (pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
}

/* Stops capturing and reports a read error; pcap stays open so stats() still works until close(). */
static void fail(capture_t *c, const char *code, const char *msg) {
  napi_env env = c->env;
  napi_handle_scope scope;
  napi_value err, fn;
  c->state = ST_FAILED;
  uv_poll_stop(&c->poll);
  uv_timer_stop(&c->timer);
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  err = make_error(env, code, msg);
  if (c->on_error_ref != NULL && napi_get_reference_value(env, c->on_error_ref, &fn) == napi_ok && fn != NULL)
    call_js(c, fn, 1, &err);
  else
    napi_fatal_exception(env, err);
  napi_close_handle_scope(env, scope);
}

static void deliver_batch(capture_t *c) {
  napi_env env = c->env;
  napi_handle_scope scope;
  napi_value argv[2], fn;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, c->on_batch_ref, &fn) == napi_ok &&
      napi_get_reference_value(env, c->buf_ref, &argv[0]) == napi_ok &&
      napi_create_uint32(env, c->count, &argv[1]) == napi_ok)
    call_js(c, fn, 2, argv);
  napi_close_handle_scope(env, scope);
}

/* pcap_dispatch callback: one memcpy into the batch, nothing else. */
static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  capture_t *c = (capture_t *)user;
  uint32_t caplen = h->caplen, w[4];
  size_t rec;
  if (caplen > c->snaplen) caplen = c->snaplen; /* libpcap guarantees it; the room check relies on it */
  rec = RECORD_HEADER + ((caplen + RECORD_ALIGN - 1) & ~(size_t)(RECORD_ALIGN - 1));
  if (c->used + rec > c->buf_cap) return; /* unreachable: drain() asks for at most what fits */
  w[0] = (uint32_t)h->ts.tv_sec;
  /* With nano precision libpcap stores nanoseconds in tv_usec. */
  w[1] = c->nano ? (uint32_t)h->ts.tv_usec : (uint32_t)h->ts.tv_usec * 1000u;
  w[2] = caplen;
  w[3] = h->len;
  memcpy(c->buf + c->used, w, sizeof w);
  memcpy(c->buf + c->used + RECORD_HEADER, bytes, caplen);
  c->used += rec;
  c->count++;
}

static void on_timer(uv_timer_t *t);

/*
 * libpcap may ask to be polled besides fd readiness. On Linux it does so (every 1 ms) while
 * the interface is down, to notice it going away; packets still wake the uv_poll, so a
 * slower timer only delays that notice and saves a few percent of a core per link down.
 */
#define MIN_REQUIRED_POLL_MS 20

static void update_timer(capture_t *c) {
  const struct timeval *tv = pcap_get_required_select_timeout(c->pcap);
  if (tv != NULL && !c->timer_on) {
    uint64_t ms = (uint64_t)tv->tv_sec * 1000u + (uint64_t)tv->tv_usec / 1000u;
    if (ms < MIN_REQUIRED_POLL_MS) ms = MIN_REQUIRED_POLL_MS;
    uv_timer_start(&c->timer, on_timer, ms, ms);
    c->timer_on = true;
  } else if (tv == NULL && c->timer_on) {
    uv_timer_stop(&c->timer);
    c->timer_on = false;
  }
}

/*
 * One batch per wakeup: the poll is level-triggered, so anything left in the ring wakes us on
 * the next loop turn, and timers and I/O get a turn in between. Each pcap_dispatch() asks
 * only for as many packets as surely fit, so on_packet never has to stop libpcap mid-block.
 */
static void drain(capture_t *c) {
  int rc = 0;
  char errmsg[PCAP_ERRBUF_SIZE + 300];
  c->used = 0;
  c->count = 0;
  while (c->count < c->batch_max) {
    size_t fit = (c->buf_cap - c->used) / c->worst_record;
    uint32_t want = c->batch_max - c->count;
    if (fit < want) want = (uint32_t)fit;
    if (want == 0) break;
    rc = pcap_dispatch(c->pcap, (int)want, on_packet, (u_char *)c);
    if (rc < 0 || (uint32_t)rc < want) break;
  }
  /* Copied before calling JS, which may reuse libpcap's errbuf (stats()). */
  if (rc == PCAP_ERROR) snprintf(errmsg, sizeof errmsg, "%s: %s", c->iface, pcap_geterr(c->pcap));
  if (c->count > 0) deliver_batch(c);
  if (c->state != ST_OPEN) return; /* closed from inside the callback */
  if (rc == PCAP_ERROR) {
    fail(c, "PCAP_READ_ERROR", errmsg);
    return;
  }
  update_timer(c);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  capture_t *c = h->data;
  char msg[512];
  int rc;
  (void)events;
  if (c->state != ST_OPEN) return;
  if (status == 0) {
    c->poll_errors = 0;
    drain(c);
    return;
  }
  /*
   * libuv reports POLLERR as UV_EBADF and stops the watcher. On Linux that is the socket error
   * the kernel sets when the interface goes down; libpcap reads it in pcap_dispatch() and fails
   * only if the interface is gone, so a link flap on a SPAN port does not end the capture.
   * A persistent error (no packets between many reports) ends it instead of spinning.
   */
  drain(c);
  if (c->state != ST_OPEN) return;
  if (status == UV_EBADF && c->count == 0 && ++c->poll_errors > 100) status = UV_EIO;
  if (status == UV_EBADF && (rc = uv_poll_start(&c->poll, UV_READABLE, on_readable)) == 0) return;
  snprintf(msg, sizeof msg, "%s: capture stopped: poll error: %s", c->iface, uv_strerror(status));
  fail(c, "PCAP_POLL_ERROR", msg);
}

static void on_timer(uv_timer_t *t) {
  capture_t *c = t->data;
  if (c->state == ST_OPEN) drain(c);
}

/* ---------- open ---------- */

static const char *activate_code(int rc) {
  switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE: return "PCAP_NO_SUCH_DEVICE";
    case PCAP_ERROR_PERM_DENIED: return "PCAP_PERM_DENIED";
    case PCAP_ERROR_PROMISC_PERM_DENIED: return "PCAP_PROMISC_PERM_DENIED";
    case PCAP_ERROR_IFACE_NOT_UP: return "PCAP_IFACE_NOT_UP";
    case PCAP_ERROR_RFMON_NOTSUP: return "PCAP_RFMON_NOTSUP";
    default: return "PCAP_ACTIVATE_ERROR";
  }
}

/* "<iface>: <status text> (<libpcap detail>)", as tcpdump words it; detail omitted when empty or a repeat. */
static void status_text(char *out, size_t size, const char *iface, int rc, const char *detail) {
  const char *status = pcap_statustostr(rc);
  if (detail != NULL && detail[0] != '\0' && strcmp(detail, status) != 0)
    snprintf(out, size, "%s: %s (%s)", iface, status, detail);
  else
    snprintf(out, size, "%s: %s", iface, status);
}

/* Creates, configures and activates the handle; NULL after throwing. */
static pcap_t *open_pcap(napi_env env, const open_opts *o, napi_value warnings, bool *nano) {
  char errbuf[PCAP_ERRBUF_SIZE], msg[2 * PCAP_ERRBUF_SIZE + 512];
  pcap_t *p;
  int rc, prec_rc;
  uint32_t nwarn = 0;
  napi_value s;
  struct bpf_program prog;

  errbuf[0] = '\0';
  p = pcap_create(o->iface, errbuf);
  if (p == NULL) {
    snprintf(msg, sizeof msg, "%s: %s", o->iface, errbuf);
    throw_code(env, "PCAP_CREATE_ERROR", msg);
    return NULL;
  }
  if (pcap_set_snaplen(p, o->snaplen) != 0 || pcap_set_promisc(p, o->promisc ? 1 : 0) != 0 ||
      pcap_set_timeout(p, o->timeout_ms) != 0 || pcap_set_immediate_mode(p, o->immediate ? 1 : 0) != 0 ||
      (o->buffer_size > 0 && pcap_set_buffer_size(p, o->buffer_size) != 0)) {
    snprintf(msg, sizeof msg, "%s: cannot set capture options: %s", o->iface, pcap_geterr(p));
    throw_code(env, "PCAP_ERROR", msg);
    pcap_close(p);
    return NULL;
  }
  prec_rc = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO); /* micro is the fallback */

  rc = pcap_activate(p);
  if (rc < 0) {
    /* PCAP_ERROR's detail is the whole story; for the others it adds the syscall detail. */
    if (rc == PCAP_ERROR)
      snprintf(msg, sizeof msg, "%s: %s", o->iface, pcap_geterr(p));
    else
      status_text(msg, sizeof msg, o->iface, rc, pcap_geterr(p));
    throw_code(env, activate_code(rc), msg);
    pcap_close(p);
    return NULL;
  }
  if (rc > 0) {
    status_text(msg, sizeof msg, o->iface, rc, pcap_geterr(p));
    if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &s) == napi_ok) napi_set_element(env, warnings, nwarn++, s);
  }
  *nano = prec_rc == 0 && pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;

  if (o->filter != NULL && o->filter[0] != '\0') {
    if (pcap_compile(p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
      snprintf(msg, sizeof msg, "invalid capture filter \"%s\": %s", o->filter, pcap_geterr(p));
      throw_code(env, "PCAP_BAD_FILTER", msg);
      pcap_close(p);
      return NULL;
    }
    rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
      snprintf(msg, sizeof msg, "%s: cannot install filter \"%s\": %s", o->iface, o->filter, pcap_geterr(p));
      throw_code(env, "PCAP_BAD_FILTER", msg);
      pcap_close(p);
      return NULL;
    }
  }
  if (pcap_setnonblock(p, 1, errbuf) != 0) {
    snprintf(msg, sizeof msg, "%s: cannot set non-blocking mode: %s", o->iface, errbuf);
    throw_code(env, "PCAP_ERROR", msg);
    pcap_close(p);
    return NULL;
  }
  if (pcap_get_selectable_fd(p) < 0) {
    snprintf(msg, sizeof msg, "%s: this capture device cannot be polled", o->iface);
    throw_code(env, "PCAP_NOT_SELECTABLE", msg);
    pcap_close(p);
    return NULL;
  }
  return p;
}

static bool set_prop(napi_env env, napi_value obj, const char *name, napi_value v) {
  return napi_set_named_property(env, obj, name, v) == napi_ok;
}

/* Tears down a half-built capture that never got its JS wrapper. */
static void undo_open(capture_t *c) {
  napi_env env = c->env;
  if (c->buf_ref != NULL) napi_delete_reference(env, c->buf_ref);
  if (c->on_batch_ref != NULL) napi_delete_reference(env, c->on_batch_ref);
  if (c->on_error_ref != NULL) napi_delete_reference(env, c->on_error_ref);
  if (c->async_ctx != NULL) napi_async_destroy(env, c->async_ctx);
  pcap_close(c->pcap);
  c->pcap = NULL;
  c->state = ST_CLOSED;
  c->finalized = true; /* no wrapper: the last close callback frees */
  uv_close((uv_handle_t *)&c->poll, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* new Capture(options, onBatch(buffer, count), onError?(err)) */
static napi_value capture_new(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self, target, warnings, bufval, v;
  napi_valuetype t;
  open_opts o;
  pcap_t *p;
  bool nano = false, has_on_error = false;
  capture_t *c;
  uv_loop_t *loop;
  void *data;
  size_t worst, cap;
  int uvrc;
  char msg[512];

  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == NULL) {
    throw_code(env, "ERR_CONSTRUCT_CALL_REQUIRED", "Capture must be called with new");
    return NULL;
  }
  if (argc < 2 || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    throw_code(env, "ERR_INVALID_ARG_TYPE", "onBatch must be a function");
    return NULL;
  }
  if (argc >= 3 && napi_typeof(env, argv[2], &t) == napi_ok && t != napi_undefined) {
    if (t != napi_function) {
      throw_code(env, "ERR_INVALID_ARG_TYPE", "onError must be a function");
      return NULL;
    }
    has_on_error = true;
  }
  if (!parse_opts(env, argv[0], &o)) {
    free(o.filter);
    return NULL;
  }
  if (napi_create_array(env, &warnings) != napi_ok) {
    free(o.filter);
    return NULL;
  }
  p = open_pcap(env, &o, warnings, &nano);
  free(o.filter);
  if (p == NULL) return NULL;

  c = calloc(1, sizeof *c);
  if (c == NULL) {
    pcap_close(p);
    throw_code(env, "ERR_MEMORY", "out of memory");
    return NULL;
  }
  c->env = env;
  c->pcap = p;
  c->state = ST_OPEN;
  snprintf(c->iface, sizeof c->iface, "%s", o.iface);
  c->snaplen = (uint32_t)pcap_snapshot(p);
  c->nano = nano;
  c->batch_max = o.batch_size;
  worst = RECORD_HEADER + ((c->snaplen + RECORD_ALIGN - 1) & ~(size_t)(RECORD_ALIGN - 1));
  c->worst_record = worst;
  /* Enough for a full batch of maximal frames, capped; never less than one frame. */
  cap = (size_t)o.batch_size * worst;
  if (cap > BATCH_BYTES_CAP) cap = BATCH_BYTES_CAP;
  if (cap < worst) cap = worst;

  napi_get_uv_event_loop(env, &loop);
  uvrc = uv_poll_init(loop, &c->poll, pcap_get_selectable_fd(p));
  if (uvrc != 0) {
    snprintf(msg, sizeof msg, "%s: cannot poll the capture fd: %s", o.iface, uv_strerror(uvrc));
    pcap_close(p);
    free(c);
    throw_code(env, "PCAP_POLL_ERROR", msg);
    return NULL;
  }
  uv_timer_init(loop, &c->timer);
  c->poll.data = c;
  c->timer.data = c;
  c->handles_open = 2;

  /* Each step below depends on the previous one; undo_open() releases what was made. */
  if (napi_create_buffer(env, cap, &data, &bufval) != napi_ok ||
      napi_create_reference(env, bufval, 1, &c->buf_ref) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &c->on_batch_ref) != napi_ok ||
      (has_on_error && napi_create_reference(env, argv[2], 1, &c->on_error_ref) != napi_ok) ||
      napi_create_string_utf8(env, "PcapCapture", NAPI_AUTO_LENGTH, &v) != napi_ok ||
      napi_async_init(env, NULL, v, &c->async_ctx) != napi_ok ||
      napi_wrap(env, self, c, finalize_capture, NULL, &c->self_ref) != napi_ok) {
    undo_open(c);
    throw_code(env, "ERR_NAPI", "cannot set up the capture object");
    return NULL;
  }
  c->buf = data;
  c->buf_cap = cap;
  napi_reference_ref(env, c->self_ref, NULL);

  /* From here on the wrapper exists, so failures go through close_capture() and the finalizer. */
  napi_add_async_cleanup_hook(env, on_env_teardown, c, &c->cleanup_hook);
  uvrc = uv_poll_start(&c->poll, UV_READABLE, on_readable);
  if (uvrc != 0) {
    close_capture(c);
    snprintf(msg, sizeof msg, "%s: cannot poll the capture fd: %s", o.iface, uv_strerror(uvrc));
    throw_code(env, "PCAP_POLL_ERROR", msg);
    return NULL;
  }
  update_timer(c);

  if (napi_create_int32(env, pcap_datalink(p), &v) != napi_ok || !set_prop(env, self, "linkType", v) ||
      napi_create_string_utf8(env, nano ? "nano" : "micro", NAPI_AUTO_LENGTH, &v) != napi_ok ||
      !set_prop(env, self, "precision", v) || napi_create_uint32(env, c->snaplen, &v) != napi_ok ||
      !set_prop(env, self, "snaplen", v) || !set_prop(env, self, "warnings", warnings)) {
    close_capture(c);
    return NULL;
  }
  return self;
}

/* ---------- methods ---------- */

static capture_t *this_capture(napi_env env, napi_callback_info info) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, NULL, NULL, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    throw_code(env, "ERR_INVALID_THIS", "not a Capture");
    return NULL;
  }
  return data;
}

static napi_value capture_stats(napi_env env, napi_callback_info info) {
  capture_t *c = this_capture(env, info);
  struct pcap_stat ps;
  napi_value out, v;
  char msg[PCAP_ERRBUF_SIZE + 32];
  if (c == NULL) return NULL;
  if (c->pcap == NULL) {
    throw_code(env, "PCAP_CLOSED", "capture is closed");
    return NULL;
  }
  if (pcap_stats(c->pcap, &ps) != 0) {
    snprintf(msg, sizeof msg, "pcap_stats: %s", pcap_geterr(c->pcap));
    throw_code(env, "PCAP_ERROR", msg);
    return NULL;
  }
  /* Unsigned subtraction gives the right delta across one wrap of the u_int counters. */
  c->total_recv += (double)(unsigned)(ps.ps_recv - c->last_raw.ps_recv);
  c->total_drop += (double)(unsigned)(ps.ps_drop - c->last_raw.ps_drop);
  c->total_ifdrop += (double)(unsigned)(ps.ps_ifdrop - c->last_raw.ps_ifdrop);
  c->last_raw = ps;
  if (napi_create_object(env, &out) != napi_ok) return NULL;
  napi_create_double(env, c->total_recv, &v);
  set_prop(env, out, "received", v);
  napi_create_double(env, c->total_drop, &v);
  set_prop(env, out, "dropped", v);
  napi_create_double(env, c->total_ifdrop, &v);
  set_prop(env, out, "ifDropped", v);
  return out;
}

static napi_value capture_close(napi_env env, napi_callback_info info) {
  capture_t *c = this_capture(env, info);
  if (c != NULL) close_capture(c);
  return NULL;
}

static void init_pcap_once(void) {
  char errbuf[PCAP_ERRBUF_SIZE];
  /* UTF-8 error strings everywhere (matters on Windows); harmless if it fails. */
  (void)pcap_init(PCAP_CHAR_ENC_UTF_8, errbuf);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  static uv_once_t once = UV_ONCE_INIT;
  napi_value cls, v;
  napi_property_descriptor methods[] = {
      {"stats", NULL, capture_stats, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, capture_close, NULL, NULL, NULL, napi_default_method, NULL},
  };
  uv_once(&once, init_pcap_once);
  if (napi_define_class(env, "Capture", NAPI_AUTO_LENGTH, capture_new, NULL, sizeof methods / sizeof methods[0],
                        methods, &cls) != napi_ok ||
      napi_set_named_property(env, exports, "Capture", cls) != napi_ok ||
      napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH, &v) != napi_ok ||
      napi_set_named_property(env, exports, "libVersion", v) != napi_ok)
    return NULL;
  batch_send_register(env, exports);
  fs_sync_register(env, exports);
  slab_set_register(env, exports);
  spool_demux_register(env, exports);
  rtp_fast_path_register(env, exports);
  return exports;
}
