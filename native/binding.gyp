# SPDX-License-Identifier: GPL-3.0-or-later
# Build: cd <repo> && npx node-gyp rebuild -C native   → native/build/Release/pcap_capture.node, codecs.node
# Linux: needs libpcap-dev; codecs needs libbcg729-dev libspandsp-dev libgsm1-dev libspeex-dev
# libopencore-amrnb-dev libopencore-amrwb-dev libavcodec-dev (Makefile APT_PACKAGES). Windows: see the "Windows" note in pcap/pcap_capture.c.
{
  "targets": [
    {
      "target_name": "pcap_capture",
      "sources": ["pcap/pcap_capture.c", "pcap/batch_send.c", "pcap/fs_sync.c", "slab/slab_set.c", "spool/spool_demux.c", "fastpath/rtp_fast_path.c"],
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
          "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-ffp-contract=off"],
          "xcode_settings": { "OTHER_CFLAGS": ["-ffp-contract=off"] },
          "libraries": ["-lpcap"]
        }]
      ]
    },
    {
      "target_name": "codecs",
      "sources": [
        "codecs/addon.c", "codecs/g729.c", "codecs/g72x.c", "codecs/gsm.c",
        "codecs/speex.c", "codecs/amr.c", "codecs/lavc.c", "codecs/opus_enc.c"
      ],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS!='win'", {
          "cflags_c": [
            "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter",
            "<!@(pkg-config --cflags libavcodec libavutil spandsp speex opencore-amrnb opencore-amrwb libbcg729 opus)"
          ],
          "libraries": [
            "<!@(pkg-config --libs libavcodec libavutil spandsp speex opencore-amrnb opencore-amrwb libbcg729 opus)",
            "-lgsm", "-lm"
          ]
        }]
      ]
    }
  ]
}
