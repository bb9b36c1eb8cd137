/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef BATCH_SEND_H
#define BATCH_SEND_H
#include <node_api.h>
/* Adds openUdp/openPacket/sendBatch/closeFd to the addon's exports (Linux; nothing elsewhere). */
void batch_send_register(napi_env env, napi_value exports);
#endif
