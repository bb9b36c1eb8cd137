/**
 * `recorder run` and the call-event feed: the `--netfeed HOST:PORT --netfeed-key K` flags over
 * the config's `netfeed` section (flags win), SILK payload mappings, and starting the listener
 * against the recorder's registry.
 */
import type { CallRecorder } from '../call-recorder.js';
import type { PayloadMapping } from '../calls/call.js';
import { UsageError } from '../cli/errors.js';
import type { Counters } from '../core/counters.js';
import { parseListen } from '../ops/listen-address.js';
import type { NetfeedConfig, RecorderConfig } from '../ops/config.js';
import { DEFAULT_NETFEED_PORT, FeedServer } from './feed-server.js';
import { NetfeedTracker } from './netfeed-tracker.js';

export const DEFAULT_NETFEED_CONFIG: Omit<NetfeedConfig, 'key'> = {
  listen: `0.0.0.0:${DEFAULT_NETFEED_PORT}`,
  mode: 'mirroring',
  disallowedIps: [],
  edgeIps: [],
  relayGateways: [],
  silkPayloadTypes: {},
  learnEndpoints: true,
};

/** Apply `--netfeed` and `--netfeed-key` (they enable the listener without a config file). */
export function applyNetfeedFlags(config: RecorderConfig, flags: { netfeed?: string; netfeedKey?: string }): void {
  if (flags.netfeed === undefined && flags.netfeedKey === undefined) return;
  if (flags.netfeed === undefined && !config.netfeed) throw new UsageError('--netfeed-key needs --netfeed HOST:PORT (or netfeed in the config)');
  const key = flags.netfeedKey ?? config.netfeed?.key ?? process.env['NETFEED_KEY'] ?? '';
  if (key.length < 16) throw new UsageError('--netfeed needs a shared key of at least 16 characters: --netfeed-key K, NETFEED_KEY or netfeed.key');
  const c: NetfeedConfig = { ...DEFAULT_NETFEED_CONFIG, ...config.netfeed, key };
  if (flags.netfeed !== undefined) {
    const r = parseListen(flags.netfeed);
    if (typeof r === 'string') throw new UsageError(`--netfeed ${flags.netfeed}: ${r}`);
    c.listen = flags.netfeed;
  }
  config.netfeed = c;
}

/** SILK payload types of the netfeed section, as payload mappings (SDP mappings still win). */
export function silkMappings(c: NetfeedConfig | undefined): PayloadMapping[] {
  return Object.entries(c?.silkPayloadTypes ?? {}).map(([pt, clockRate]) => ({ pt: Number(pt), codec: 'SILK', clockRate, channels: 1 }));
}

export interface NetfeedRun {
  server: FeedServer;
  tracker: NetfeedTracker;
  stop(): Promise<void>;
}

/** Starts the feed listener; rejects when it cannot bind. */
export async function startNetfeed(c: NetfeedConfig, recorder: CallRecorder, counters: Counters, transcriptDir: string, log: (line: string) => void): Promise<NetfeedRun> {
  const tracker = new NetfeedTracker(recorder.registry, counters, {
    mode: c.mode,
    disallowedIps: c.disallowedIps,
    edgeIps: c.edgeIps,
    relayGateways: c.relayGateways,
    learnEndpoints: c.learnEndpoints,
    transcriptDir,
  });
  const server = await FeedServer.start({ listen: c.listen, key: c.key, log }, counters, (fe, f, buf) => tracker.onFeedSip(fe, f, buf));
  log(`netfeed listener on ${c.listen.replace(/:\d+$/, '')}:${server.port} (${c.mode})`);
  const sweep = setInterval(() => tracker.sweep(), 10_000);
  sweep.unref();
  return {
    server,
    tracker,
    async stop() {
      clearInterval(sweep);
      await server.close();
    },
  };
}
