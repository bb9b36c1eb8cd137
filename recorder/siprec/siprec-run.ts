/**
 * `recorder run` and the SIPREC server: the `--siprec HOST:PORT --audio-ports A-B` flags over the
 * config's `siprec` section (flags win), and starting the server against the recorder's registry
 * and packet path.
 */
import type { CallRecorder } from '../call-recorder.js';
import type { Counters } from '../core/counters.js';
import { UsageError } from '../cli/errors.js';
import { parseListen } from '../ops/listen-address.js';
import type { RecorderConfig, SiprecConfig } from '../ops/config.js';
import type { Pipeline } from '../pipeline.js';
import { parsePortRange } from './port-pool.js';
import { SiprecServer } from './siprec-server.js';
import type { SiprecOptions } from './siprec-options.js';

export const DEFAULT_SIPREC_CONFIG: SiprecConfig = {
  listen: '0.0.0.0:5060',
  transports: ['udp', 'tcp'],
  advertiseAddress: '',
  audioPorts: '20000-29999',
  nonSiprec: 'reject',
  holdsUsingSdp: true,
  inboundTrunkRanges: [],
  outboundTrunkRanges: [],
  equateDuplicateSessions: false,
  maxSessions: 2000,
  retryAfterSec: 30,
};

/** Apply `--siprec` and `--audio-ports` to the config (they enable the server without a config file). */
export function applySiprecFlags(config: RecorderConfig, flags: { siprec?: string; audioPorts?: string }): void {
  if (flags.siprec === undefined && flags.audioPorts === undefined) return;
  if (flags.siprec === undefined && !config.siprec) throw new UsageError('--audio-ports needs --siprec HOST:PORT (or siprec in the config)');
  const c: SiprecConfig = { ...DEFAULT_SIPREC_CONFIG, ...config.siprec };
  if (flags.siprec !== undefined) {
    const r = parseListen(flags.siprec);
    if (typeof r === 'string') throw new UsageError(`--siprec ${flags.siprec}: ${r}`);
    c.listen = flags.siprec;
  }
  if (flags.audioPorts !== undefined) {
    const r = parsePortRange(flags.audioPorts);
    if (typeof r === 'string') throw new UsageError(`--audio-ports ${flags.audioPorts}: ${r}`);
    c.audioPorts = flags.audioPorts;
  }
  config.siprec = c;
}

/** The server options a validated config section gives. */
export function siprecOptions(c: SiprecConfig): Partial<SiprecOptions> {
  const listen = parseListen(c.listen);
  const ports = parsePortRange(c.audioPorts);
  if (typeof listen === 'string' || typeof ports === 'string') throw new UsageError(`siprec: bad listen or audioPorts`);
  return {
    host: listen.host,
    port: listen.port,
    udp: c.transports.includes('udp'),
    tcp: c.transports.includes('tcp'),
    advertiseAddress: c.advertiseAddress,
    audioPorts: ports,
    nonSiprec: c.nonSiprec,
    holdsUsingSdp: c.holdsUsingSdp,
    trunks: { inbound: c.inboundTrunkRanges.map((s) => new RegExp(s)), outbound: c.outboundTrunkRanges.map((s) => new RegExp(s)) },
    equateDuplicateSessions: c.equateDuplicateSessions,
    maxSessions: c.maxSessions,
    retryAfterSec: c.retryAfterSec,
  };
}

export async function startSiprec(c: SiprecConfig, recorder: CallRecorder, pipeline: Pipeline, counters: Counters, log: (line: string) => void): Promise<SiprecServer> {
  const server = new SiprecServer({ registry: recorder.registry, inject: (p) => pipeline.inject(p), counters }, siprecOptions(c));
  await server.start();
  const p = server.ports;
  log(
    `SIPREC server on ${server.opts.host} ${[p.udp ? `udp:${p.udp}` : '', p.tcp ? `tcp:${p.tcp}` : ''].filter(Boolean).join(' ')}, ` +
      `media ${server.mediaAddress} ports ${server.opts.audioPorts.start}-${server.opts.audioPorts.end} (${server.pool.capacity} pairs)`,
  );
  return server;
}
