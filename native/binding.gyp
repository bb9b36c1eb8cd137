# SPDX-License-Identifier: GPL-3.0-or-later
# Build: cd <repo> && npx node-gyp rebuild -C native   → native/build/Release/pcap_capture.node
# Linux: needs libpcap-dev. Windows: see the "Windows" note in pcap/pcap_capture.c.
{
  "targets": [
    {
      "target_name": "pcap_capture",
      "sources": ["pcap/pcap_capture.c"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS=='win'", {
          "variables": {
            "npcap_sdk%": "<!(node -p \"process.env.NPCAP_SDK || 'C:/npcap-sdk'\")"
          },
          "include_dirs": ["<(npcap_sdk)/Include"],
          "libraries": ["<(npcap_sdk)/Lib/x64/wpcap.lib", "ws2_32.lib"],
          "msvs_settings": {
            "VCLinkerTool": { "DelayLoadDLLs": ["wpcap.dll"] }
          }
        }, {
          "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
          "libraries": ["-lpcap"]
        }]
      ]
    }
  ]
}
