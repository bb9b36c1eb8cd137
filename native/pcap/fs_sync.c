/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * syncFs(fd) → 0 or -errno: syncfs(2), every dirty file and directory entry of the filesystem
 * holding fd made durable at once. The spool's fsync worker uses it when a batch holds many open
 * spools of one spool root: thousands of calls would otherwise cost thousands of fsync(2)s per
 * second, each its own journal commit and device cache flush. Since Linux 5.8 syncfs reports a
 * writeback error on the filesystem once per fd (errseq); how the worker keeps every error seen
 * is in recorder/spool/fsync-worker.ts.
 *
 * The few Linux system calls Node lacks live in the capture addon (batch_send.c is the other):
 * where libpcap cannot be loaded, neither can syncFs, and the spool fsyncs file by file.
 * Elsewhere than Linux syncFs is absent.
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>
#endif
#include <node_api.h>

#include "fs_sync.h"

#ifdef __linux__

static napi_value sync_fs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int r;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
    r = -EBADF;
  else
    r = syncfs(fd) == 0 ? 0 : -errno;
  napi_create_int32(env, r, &out);
  return out;
}

void fs_sync_register(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"syncFs", NULL, sync_fs, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
}

#else

void fs_sync_register(napi_env env, napi_value exports) {
  (void)env;
  (void)exports;
}

#endif
