/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SPOOL_DEMUX_H
#define SPOOL_DEMUX_H
#include <node_api.h>

/* Adds spoolDemux and spoolCrc32c to the addon's exports (spool_demux.c). */
void spool_demux_register(napi_env env, napi_value exports);

#endif
