/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FS_SYNC_H
#define FS_SYNC_H
#include <node_api.h>
/* Adds syncFs to the addon's exports (Linux; nothing elsewhere). */
void fs_sync_register(napi_env env, napi_value exports);
#endif
