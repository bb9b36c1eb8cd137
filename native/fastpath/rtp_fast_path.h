/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef RTP_FAST_PATH_H
#define RTP_FAST_PATH_H
#include <node_api.h>

/* Adds rtpFastPath to the addon's exports (rtp_fast_path.c). */
void rtp_fast_path_register(napi_env env, napi_value exports);

#endif
