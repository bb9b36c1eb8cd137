# The two commands of the README's first screen, `make demo` and `make test`, run `setup`
# themselves, so they work on a fresh Debian 12 machine (as root) with only Node 20 installed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian packages: libpcap for the live-capture addon; tshark (the reference dissector of the
# golden tests), tcpdump (capacity reference), iproute2 (test namespaces), sox (reference codec).
# Codec libraries linked by native/codecs (bcg729 G.729, spandsp G.722/G.726, gsm, speex, AMR-NB/WB,
# libavcodec for Siren and iLBC's received frames: its loss concealment is our RFC 3951 decoder's);
# ffmpeg/ffprobe, opus-tools and espeak-ng are test oracles and sources.
# wabt's wat2wasm assembles the render's WASM mixer (codecs/mix.wat; it measured faster than the TS one).
APT_PACKAGES := libpcap-dev tshark tcpdump iproute2 sox python3 g++ make pkg-config \
  libbcg729-dev libspandsp-dev libgsm1-dev libspeex-dev libopencore-amrnb-dev libopencore-amrwb-dev libopus-dev \
  libavcodec-dev ffmpeg opus-tools espeak-ng sip-tester sngrep wabt
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Node's headers ship with Debian/NodeSource node under <prefix>/include/node: build against
# them so node-gyp never tries to download headers (the machine only reaches npm and apt).
NODEDIR := $(shell node -p "require('path').resolve(process.execPath, '../..')")
NODE_GYP := node_modules/.bin/node-gyp
ADDON := native/build/Release/pcap_capture.node
CODECS_ADDON := native/build/Release/codecs.node
DEMO_CAPTURE := fixtures/lundgrel-sipp__sipp_uac_Media_DTMF_Speex.pcap

.PHONY: help setup apt npm native build test lint demo bench clean

help:
	@echo "make demo   - set up, build, record the calls of a bundled capture and search them"
	@echo "make test   - set up, build, and run the whole test suite"
	@echo "make setup | build | lint | bench | clean"

setup: apt npm native

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# `npm install` from the lockfile rather than `npm ci`: npm 11.19's `ci` rejects this lockfile
# for lacking the other platforms' optional binaries of msgpackr-extract (an lmdb dependency).
# lmdb and msgpackr-extract ship prebuilt binaries; their install scripts only find them.
node_modules/.package-lock.json: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

npm: node_modules/.package-lock.json

# One node-gyp run builds both addons (a grouped target: either missing or stale rebuilds both).
$(ADDON) $(CODECS_ADDON) &: native/binding.gyp $(wildcard native/pcap/*.c native/pcap/*.h native/spool/*.c native/spool/*.h native/slab/*.c native/slab/*.h native/fastpath/*.c native/fastpath/*.h) $(wildcard native/codecs/*.c native/codecs/*.h) node_modules/.package-lock.json
	@test -f "$(NODEDIR)/include/node/node_api.h" || { echo "node headers not found under $(NODEDIR)/include/node"; exit 1; }
	$(NODE_GYP) rebuild -C native --nodedir="$(NODEDIR)" --loglevel=warn

native: $(ADDON) $(CODECS_ADDON)

# Hand-written WebAssembly is built from its text next to the compiled TypeScript that loads it.
MIX_WASM := dist/codecs/mix.wasm
$(MIX_WASM): codecs/mix.wat
	@command -v wat2wasm >/dev/null || { echo "wat2wasm not found: run make apt (Debian package wabt)"; exit 1; }
	@mkdir -p $(@D)
	wat2wasm $< -o $@

build: npm $(MIX_WASM)
	node_modules/.bin/tsc -p tsconfig.json

test: setup build
	node_modules/.bin/eslint .
	node --test --test-reporter=spec $$(find dist/test -name '*.test.js' | sort)

lint: npm
	node_modules/.bin/eslint .
	node_modules/.bin/tsc -p tsconfig.json --noEmit

demo: setup build
	rm -rf out/demo
	bin/recorder replay $(DEMO_CAPTURE) --config fixtures/demo-config.json
	bin/recorder calls --index out/demo/index

bench: setup build
	node dist/bench/run.js

clean:
	rm -rf dist native/build
