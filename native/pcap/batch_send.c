/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Batched datagram output for the agent (HEP over UDP) and the capacity load generator (frames
 * injected on a veth of our own namespace). Node's dgram costs one syscall and one libuv request per
 * datagram; sendmmsg(2) hands the kernel up to SEND_BATCH datagrams per syscall, each one still its
 * own datagram on the wire.
 *
 *   openUdp(host: string, port: number, sndbuf: number) → fd   connected UDP socket (IPv4 or IPv6 literal)
 *   openPacket(ifname: string) → fd                             AF_PACKET SOCK_RAW on one interface (root)
 *   sendBatch(fd, buf: Buffer, ends: Uint32Array, count, gso?) → n
 *                                          datagram i = buf[ends[i-1] .. ends[i]); n sent (< count: socket
 *                                          buffer full), or -errno; gso: UDP segmentation offload (below)
 *   closeFd(fd)
 *
 * Linux only (sendmmsg, AF_PACKET); elsewhere the functions are absent and callers fall back to dgram.
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#endif
#include <node_api.h>

#include "batch_send.h"

#ifdef __linux__

/* Datagrams per sendmmsg call: UIO_MAXIOV (1024) is the kernel's cap; 256 keeps the stack arrays small. */
#define SEND_BATCH 256

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, "ERR_BATCH_SEND", msg);
  return NULL;
}

static napi_value int_value(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static napi_value open_udp(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char host[64];
  size_t hl = 0;
  uint32_t port = 0;
  int32_t sndbuf = 0;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &port) != napi_ok || napi_get_value_int32(env, argv[2], &sndbuf) != napi_ok ||
      port == 0 || port > 65535) {
    napi_throw_type_error(env, NULL, "openUdp(host, port, sndbuf)");
    return NULL;
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t sl;
  struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    sl = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    sl = sizeof *a6;
  } else {
    napi_throw_type_error(env, NULL, "openUdp: host must be an IP address literal");
    return NULL;
  }
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (sndbuf > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "connect", e);
  }
  return int_value(env, fd);
}

static napi_value open_packet(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char name[IF_NAMESIZE];
  size_t nl = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &nl) != napi_ok || nl == 0) {
    napi_throw_type_error(env, NULL, "openPacket(ifname)");
    return NULL;
  }
  unsigned idx = if_nametoindex(name);
  if (idx == 0) return throw_errno(env, name, errno);
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: send only, receives nothing */
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  struct sockaddr_ll ll;
  memset(&ll, 0, sizeof ll);
  ll.sll_family = AF_PACKET;
  ll.sll_ifindex = (int)idx;
  if (bind(fd, (struct sockaddr *)&ll, sizeof ll) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind(AF_PACKET)", e);
  }
  /* packet(7): skip the qdisc layer; the generator paces itself. Best effort. */
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  int sndbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  return int_value(env, fd);
}

/* UDP GSO (udp(7) UDP_SEGMENT, Linux 4.18): a run of equal-size datagrams leaves as one message
 * that the stack splits into datagrams once, after routing and IP output (on loopback, after IP
 * input too); the receiver still gets separate datagrams. At most GSO_MAX_SEGS per message and
 * GSO_MAX_BYTES in all (the kernel's limits are 64 segments and 64 KiB). Off for AF_PACKET. */
#define GSO_MAX_SEGS 64
#define GSO_MAX_BYTES 60000
/* Set once the kernel refused a GSO message (no UDP_SEGMENT): plain datagrams from then on. */
static int gso_broken = 0;

static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  uint32_t count = 0;
  void *data = NULL;
  size_t len = 0;
  napi_typedarray_type tt;
  size_t nends = 0;
  void *ends_raw = NULL;
  bool gso = false;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &tt, &nends, &ends_raw, NULL, NULL) != napi_ok || tt != napi_uint32_array ||
      napi_get_value_uint32(env, argv[3], &count) != napi_ok || count > nends || fd < 0) {
    napi_throw_type_error(env, NULL, "sendBatch(fd, buffer, ends: Uint32Array, count, gso?)");
    return NULL;
  }
  if (argc >= 5) napi_get_value_bool(env, argv[4], &gso);
  const uint32_t *ends = (const uint32_t *)ends_raw;
  for (uint32_t i = 0; i < count; i++) {
    if (ends[i] > len || (i > 0 && ends[i] < ends[i - 1])) {
      napi_throw_range_error(env, NULL, "sendBatch: ends must ascend within the buffer");
      return NULL;
    }
  }
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iov[SEND_BATCH];
  uint32_t segs[SEND_BATCH]; /* datagrams in each message */
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctl[SEND_BATCH];
  uint32_t sent = 0; /* datagrams */
  unsigned refused = 0;
  while (sent < count) {
    unsigned n = 0;
    uint32_t d = sent;
    while (n < SEND_BATCH && d < count) {
      uint32_t start = d == 0 ? 0 : ends[d - 1];
      uint32_t size = ends[d] - start;
      uint32_t k = 1;
      if (gso && !gso_broken && size > 0) {
        /* Equal sizes; a shorter one may close the run (only the last segment may be short). */
        while (d + k < count && k < GSO_MAX_SEGS && ends[d + k] - start <= GSO_MAX_BYTES) {
          uint32_t next = ends[d + k] - ends[d + k - 1];
          if (next > size || next == 0) break;
          k++;
          if (next < size) break;
        }
      }
      uint32_t end = ends[d + k - 1];
      iov[n].iov_base = (uint8_t *)data + start;
      iov[n].iov_len = end - start;
      memset(&msgs[n].msg_hdr, 0, sizeof msgs[n].msg_hdr);
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
      if (k > 1) {
        memset(&ctl[n], 0, sizeof ctl[n]);
        msgs[n].msg_hdr.msg_control = ctl[n].buf;
        msgs[n].msg_hdr.msg_controllen = sizeof ctl[n].buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[n].msg_hdr);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t gs = (uint16_t)size;
        memcpy(CMSG_DATA(cm), &gs, sizeof gs);
      }
      segs[n] = k;
      d += k;
      n++;
    }
    int r = sendmmsg(fd, msgs, n, MSG_DONTWAIT);
    if (r < 0) {
      int e = errno;
      /* ECONNREFUSED: an earlier datagram drew an ICMP port unreachable (receiver restarting); the
       * error is consumed and this batch was not sent, so send it again. */
      if (e == EINTR || (e == ECONNREFUSED && ++refused < 8)) continue;
      /* A kernel or device without UDP GSO refuses the first segmented message: go without. */
      if ((e == EINVAL || e == EIO || e == ENOPROTOOPT || e == EOPNOTSUPP) && segs[0] > 1 && !gso_broken) {
        gso_broken = 1;
        continue;
      }
      /* Full socket buffer: report what went; the caller keeps or counts the rest. */
      if (sent > 0 || e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) return int_value(env, sent);
      return int_value(env, -(int64_t)e);
    }
    for (int m = 0; m < r; m++) sent += segs[m];
    refused = 0; /* a short count: the next call says why (EAGAIN ends the loop) */
  }
  return int_value(env, sent);
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc >= 1 && napi_get_value_int32(env, argv[0], &fd) == napi_ok && fd > 2) close(fd);
  return NULL;
}

void batch_send_register(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"openUdp", NULL, open_udp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openPacket", NULL, open_packet, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
}

#else

void batch_send_register(napi_env env, napi_value exports) {
  (void)env;
  (void)exports;
}

#endif
