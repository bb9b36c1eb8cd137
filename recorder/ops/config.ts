/**
 * The appliance's one JSON config file (DESIGN.md "Config"), validated at start-up.
 *
 * Every section and key is optional and has a default; `defaultConfig()` is what an empty `{}`
 * gives. A mistake stops start-up with ONE line that names the key path and what was wrong:
 *
 *   config.json: recording.format: expected one of wav, opus, mp3, got "ogg"
 *   config.json: unknown key "inptus" (did you mean "inputs"?)
 *   config.json: invalid JSON at line 3, column 5: trailing comma before "}"
 *
 * Unknown keys are errors because a misspelt key would otherwise silently fall back to its
 * default. Keys starting with `_` are ignored anywhere, so JSON can carry comments.
 * Relative paths are kept as written (relative to the working directory).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { findJsonSyntaxError } from './json-syntax.js';
import { parseListen } from './listen-address.js';
import { parsePortRange } from '../siprec/port-pool.js';
import { DEFAULT_TURN_SERVER_PORTS } from '../turn/turn-input.js';
import { OPUS_APPLICATIONS, type EncoderOptions, type OpusApplication } from '../../codecs/types.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The encoder settings of the `recording` section, as the writers take them. */
export function encoderOptions(r: RecorderConfig['recording']): EncoderOptions {
  return { ...(r.bitrate !== null ? { bitrate: r.bitrate } : {}), opusApplication: r.opusApplication };
}

export const RECORDING_FORMATS = ['wav', 'opus', 'mp3'] as const;
export type RecordingFormat = (typeof RECORDING_FORMATS)[number];
export const isRecordingFormat = (s: string): s is RecordingFormat => (RECORDING_FORMATS as readonly string[]).includes(s);
export const CHANNEL_MODES = ['dual', 'mono'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

export interface InterfaceConfig {
  /** Capture device, e.g. `eth1` (the SPAN port). */
  name: string;
  /** BPF filter (pcap-filter(7)); '' captures everything. libpcap compiles it when capture starts. */
  filter: string;
  snaplen: number;
  /** Kernel capture buffer. */
  bufferMiB: number;
  promisc: boolean;
}

export interface UserConfig {
  name: string;
  /** `sip:`, `sips:` or `tel:` URIs. */
  uris: string[];
  /** Extensions and numbers; compared by their digits. */
  numbers: string[];
  /** Endpoint (phone) addresses, IPv4 or IPv6. */
  ips: string[];
  /** Cisco SCCP devices: `SEP001122334455` (any line) or `SEP001122334455/2` (line instance 2); absent when none. */
  devices?: string[];
}

/** Modes of the Skype for Business / Lync integration (QMS's three). */
export const NETFEED_MODES = ['mirroring', 'atEdge', 'endpoint'] as const;
export type NetfeedModeConfig = (typeof NETFEED_MODES)[number];

/** The Skype for Business / Lync call-event feed (`netfeed`; README). */
export interface NetfeedConfig {
  /** `host:port` of the feed listener, default `0.0.0.0:8008`. */
  listen: string;
  /** Shared key of the Front Ends' senders. */
  key: string;
  /** mirroring (SPAN or agent on Mediation), atEdge (agent on Edge, TURN-wrapped media), endpoint (agent on the user's PC). */
  mode: NetfeedModeConfig;
  /** Never a user's endpoint: recording server, Front Ends, Mediation, Edge, Exchange. */
  disallowedIps: string[];
  /** Edge servers' public addresses. */
  edgeIps: string[];
  /** TURN relays and media gateways whose addresses appear as relay candidates. */
  relayGateways: string[];
  /** SILK payload types and their clock rates, when SDP does not map them: `{ "103": 16000 }`. */
  silkPayloadTypes: Record<string, number>;
  /** Learn users' endpoint addresses from signaling. */
  learnEndpoints: boolean;
}

export interface TimeoutsConfig {
  /** INVITE without a final answer. */
  setupSec: number;
  /** Established call with neither SIP nor RTP for this long. */
  mediaSec: number;
  /** On hold with no SIP for this long. */
  holdSec: number;
  /** Unattached RTP flow silent for this long is forgotten. */
  orphanRtpSec: number;
  /** Longest call. */
  maxCallSec: number;
}

/** HEP listener (`inputs.hep`): HEPv3 over UDP and/or TCP from agents, heplify, Kamailio… */
export interface HepInputConfig {
  /** `host:port`, e.g. `0.0.0.0:9060`. */
  listen: string;
  udp: boolean;
  tcp: boolean;
  /** Required HEP auth key; '' accepts packets without one. */
  authKey: string;
}

export interface RecorderConfig {
  inputs: { interfaces: InterfaceConfig[]; hep?: HepInputConfig };
  sip: { ports: number[] };
  users: UserConfig[];
  recording: {
    /** Default opus (Ogg Opus, RFC 7845). */
    format: RecordingFormat;
    /** Encoder bit rate for opus/mp3 in bit/s; null: the writer's default for speech. */
    bitrate: number | null;
    /** libopus mode: 'lowdelay' (CELT, default), 'voip' (SILK) or 'audio'. */
    opusApplication: OpusApplication;
    channels: ChannelMode;
    /** Record RTP that no signaling explains. */
    recordUnattached: boolean;
    /** Dynamic payload types to assume when no SDP was seen: `{ "96": "opus/48000/2" }`. */
    payloadTypes: Record<string, string>;
  };
  storage: {
    dataDir: string;
    spoolDir: string;
    recordingsDir: string;
    indexDir: string;
    /** Keep each call's spool after its recording is written and indexed (default: removed). */
    keepSpools: boolean;
    /**
     * Default true: when 16 or more spool files and directories are due for their fsync at the
     * same tick, one syncfs(2) of the spool's filesystem replaces those fsyncs (fsync-worker.ts);
     * false for a spool sharing its filesystem with other busy writers (a syncfs writes back
     * their dirty data too).
     */
    syncfs: boolean;
  };
  timeouts: TimeoutsConfig;
  /** Prometheus `/metrics` and `/healthz`; null disables the HTTP endpoint. */
  metrics: { listen: string } | null;
  media: { workers: number };
  /** SIPREC server; absent when not configured. */
  siprec?: SiprecConfig;
  /** Cisco SCCP (Skinny): CallManager's TCP ports; absent: the default, 2000. */
  sccp?: { ports: number[] };
  /** The Lync / Skype for Business call-event feed; absent: no listener. */
  netfeed?: NetfeedConfig;
  /**
   * TURN on the mirror port: UDP/TCP to or from these TURN server ports is unwrapped and its media
   * recorded (ChannelData, Send/Data indications, [MS-TURN]); [] turns it off.
   */
  turn: { serverPorts: number[] };
}

const DEFAULT_DATA_DIR = './data';

/** The configuration an empty file gives. */
export function defaultConfig(): RecorderConfig {
  return validateConfig({}, '(defaults)');
}

/** Read, parse and validate a config file; throws ConfigError with one line naming the problem. */
export function loadConfig(path: string): RecorderConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read: ${readError(err)}`);
  }
  return parseConfig(text, path);
}

/** Parse and validate config text; `label` starts every error message (the file name). */
export function parseConfig(text: string, label: string): RecorderConfig {
  // Editors on some systems write a byte-order mark, which JSON.parse refuses.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new ConfigError(`${label}: ${jsonError(body, err)}`);
  }
  return validateConfig(raw, label);
}

/** Validate an already parsed value and fill the defaults. */
export function validateConfig(raw: unknown, label: string): RecorderConfig {
  const c = new Checker(label);
  const top = c.object(raw, '', ['inputs', 'sip', 'users', 'recording', 'storage', 'timeouts', 'metrics', 'media', 'siprec', 'sccp', 'netfeed', 'turn']);

  const inputs = c.section(top, 'inputs', '', ['interfaces', 'hep']);
  const interfaces = c.field(inputs, 'interfaces', 'inputs', [], (v, p) => c.array(v, p, (item, ip) => c.iface(item, ip)));
  c.unique(interfaces.map((i) => i.name), 'inputs.interfaces', '.name', 'interface');
  const hep = inputs.hep === undefined ? undefined : c.hep(inputs.hep, 'inputs.hep');

  const sip = c.section(top, 'sip', '', ['ports']);
  const ports = c.field(sip, 'ports', 'sip', [5060, 5061, 5080], (v, p) => c.array(v, p, (item, ip) => c.port(item, ip)));

  const users = c.field(top, 'users', '', [], (v, p) => c.array(v, p, (item, ip) => c.user(item, ip)));
  c.usersDistinct(users);

  const rec = c.section(top, 'recording', '', ['format', 'bitrate', 'opusApplication', 'channels', 'recordUnattached', 'payloadTypes']);
  const recording: RecorderConfig['recording'] = {
    format: c.field(rec, 'format', 'recording', 'opus', (v, p) => c.oneOf(v, p, RECORDING_FORMATS)),
    // Opus spans 6–510 kbit/s (RFC 6716 §2.1.1); MP3 8–320 kbit/s: the writer clamps to its range.
    bitrate: c.field<number | null>(rec, 'bitrate', 'recording', null, (v, p) => c.int(v, p, 6000, 510000)),
    opusApplication: c.field(rec, 'opusApplication', 'recording', 'lowdelay', (v, p) => c.oneOf(v, p, OPUS_APPLICATIONS)),
    channels: c.field(rec, 'channels', 'recording', 'dual', (v, p) => c.oneOf(v, p, CHANNEL_MODES)),
    recordUnattached: c.field(rec, 'recordUnattached', 'recording', false, (v, p) => c.bool(v, p)),
    payloadTypes: c.field(rec, 'payloadTypes', 'recording', {}, (v, p) => c.payloadTypes(v, p)),
  };

  const st = c.section(top, 'storage', '', ['dataDir', 'spoolDir', 'recordingsDir', 'indexDir', 'keepSpools', 'syncfs']);
  const dataDir = c.field(st, 'dataDir', 'storage', DEFAULT_DATA_DIR, (v, p) => c.path(v, p));
  const storage: RecorderConfig['storage'] = {
    dataDir,
    spoolDir: c.field(st, 'spoolDir', 'storage', join(dataDir, 'spool'), (v, p) => c.path(v, p)),
    recordingsDir: c.field(st, 'recordingsDir', 'storage', join(dataDir, 'recordings'), (v, p) => c.path(v, p)),
    indexDir: c.field(st, 'indexDir', 'storage', join(dataDir, 'index'), (v, p) => c.path(v, p)),
    keepSpools: c.field(st, 'keepSpools', 'storage', false, (v, p) => c.bool(v, p)),
    syncfs: c.field(st, 'syncfs', 'storage', true, (v, p) => c.bool(v, p)),
  };

  const to = c.section(top, 'timeouts', '', ['setupSec', 'mediaSec', 'holdSec', 'orphanRtpSec', 'maxCallSec']);
  const secs = (key: keyof TimeoutsConfig, dflt: number): number => c.field(to, key, 'timeouts', dflt, (v, p) => c.int(v, p, 1, MAX_TIMEOUT_SEC));
  const timeouts: TimeoutsConfig = {
    setupSec: secs('setupSec', 300),
    mediaSec: secs('mediaSec', 120),
    holdSec: secs('holdSec', 7200),
    orphanRtpSec: secs('orphanRtpSec', 60),
    maxCallSec: secs('maxCallSec', 14400),
  };

  let metrics: RecorderConfig['metrics'] = { listen: '127.0.0.1:9091' };
  if (top.metrics === null) metrics = null;
  else if (top.metrics !== undefined) {
    const m = c.object(top.metrics, 'metrics', ['listen'], 'an object or null');
    metrics = { listen: c.field(m, 'listen', 'metrics', metrics.listen, (v, p) => c.listen(v, p)) };
  }

  const md = c.section(top, 'media', '', ['workers']);
  const media = { workers: c.field(md, 'workers', 'media', 1, (v, p) => c.int(v, p, 1, 64)) };

  const siprec = top.siprec === undefined || top.siprec === null ? undefined : siprecConfig(c, top.siprec, 'siprec');

  const sccpSection = c.section(top, 'sccp', '', ['ports']);
  const sccp = top.sccp === undefined ? undefined : { ports: c.field(sccpSection, 'ports', 'sccp', [2000], (v, p) => c.array(v, p, (item, ip) => c.port(item, ip))) };
  const netfeed = top.netfeed === undefined || top.netfeed === null ? undefined : c.netfeed(top.netfeed, 'netfeed');

  const turnSection = c.section(top, 'turn', '', ['serverPorts']);
  const turn = { serverPorts: c.field(turnSection, 'serverPorts', 'turn', [...DEFAULT_TURN_SERVER_PORTS], (v, p) => c.array(v, p, (item, ip) => c.port(item, ip))) };
  // A TURN port that is also a SIP port would send SIP to the unwrapper: one of the two is a mistake.
  for (const [i, port] of turn.serverPorts.entries()) if (ports.includes(port)) c.fail(`turn.serverPorts[${i}]`, `${port} is also in sip.ports`);

  return { inputs: hep ? { interfaces, hep } : { interfaces }, sip: { ports }, users, recording, storage, timeouts, metrics, media, ...(siprec ? { siprec } : {}), ...(sccp ? { sccp } : {}), ...(netfeed ? { netfeed } : {}), turn };
}

/** SIPREC server (`siprec`): absent or null leaves it off. */
export interface SiprecConfig {
  /** SIP listen address `host:port` (UDP and TCP). */
  listen: string;
  transports: ('udp' | 'tcp')[];
  /** Address written in SDP answers; '' picks the listen host (or the first non-loopback IPv4). */
  advertiseAddress: string;
  /** RTP/RTCP port range `START-END`. */
  audioPorts: string;
  /** INVITEs that are not recording sessions: rejected (488) or recorded as SIPREC anyway. */
  nonSiprec: 'reject' | 'record';
  /** a=inactive or c=0.0.0.0 from the SRC means hold (QMS HoldsUsingSDP). */
  holdsUsingSdp: boolean;
  /** Regular expressions over a participant's `user@host`: inbound / outbound trunks (QMS SiprecInbound/OutboundTrunkRanges). */
  inboundTrunkRanges: string[];
  outboundTrunkRanges: string[];
  /** Sessions with the same participant set are recorded once (QMS EquateRecordingsOnParticipantSetMatch). */
  equateDuplicateSessions: boolean;
  maxSessions: number;
  retryAfterSec: number;
}

const SIPREC_KEYS = [
  'listen',
  'transports',
  'advertiseAddress',
  'audioPorts',
  'nonSiprec',
  'holdsUsingSdp',
  'inboundTrunkRanges',
  'outboundTrunkRanges',
  'equateDuplicateSessions',
  'maxSessions',
  'retryAfterSec',
] as const;

function siprecConfig(c: Checker, v: unknown, path: string): SiprecConfig {
  const o = c.object(v, path, SIPREC_KEYS, 'an object or null');
  const regexes = (key: string): string[] =>
    c.field(o, key, path, [] as string[], (x, p) =>
      c.array(x, p, (item, ip) => {
        const src = c.nonEmpty(item, ip);
        try {
          new RegExp(src);
        } catch (err) {
          c.fail(ip, `invalid regular expression: ${err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err)}`);
        }
        return src;
      }),
    );
  const transports = c.field(o, 'transports', path, ['udp', 'tcp'] as ('udp' | 'tcp')[], (x, p) => c.array(x, p, (t, tp) => c.oneOf(t, tp, ['udp', 'tcp'] as const)));
  if (transports.length === 0) c.fail(joinPath(path, 'transports'), 'needs udp, tcp or both');
  const advertiseAddress = c.field(o, 'advertiseAddress', path, '', (x, p) => c.ip(x, p));
  const audioPorts = c.field(o, 'audioPorts', path, '20000-29999', (x, p) => {
    const s = c.str(x, p);
    const r = parsePortRange(s);
    if (typeof r === 'string') c.fail(p, `${r}, got ${describe(s)}`);
    return s;
  });
  return {
    listen: c.field(o, 'listen', path, '0.0.0.0:5060', (x, p) => c.listen(x, p)),
    transports,
    advertiseAddress,
    audioPorts,
    nonSiprec: c.field(o, 'nonSiprec', path, 'reject', (x, p) => c.oneOf(x, p, ['reject', 'record'] as const)),
    holdsUsingSdp: c.field(o, 'holdsUsingSdp', path, true, (x, p) => c.bool(x, p)),
    inboundTrunkRanges: regexes('inboundTrunkRanges'),
    outboundTrunkRanges: regexes('outboundTrunkRanges'),
    equateDuplicateSessions: c.field(o, 'equateDuplicateSessions', path, false, (x, p) => c.bool(x, p)),
    maxSessions: c.field(o, 'maxSessions', path, 2000, (x, p) => c.int(x, p, 1, 100_000)),
    retryAfterSec: c.field(o, 'retryAfterSec', path, 30, (x, p) => c.int(x, p, 1, 3600)),
  };
}

/** 30 days: longer is surely a unit mistake (milliseconds for seconds). */
const MAX_TIMEOUT_SEC = 30 * 24 * 3600;
const URI = /^(sips?|tel):[^\s<>"]+$/i;
/** Digits with the separators people write; `*` and `#` for feature codes and extensions. */
const NUMBER = /^\+?[\d*#][\d*#\s().\-/]*$/;
/** RTP payload mapping as in SDP a=rtpmap: encoding/clock[/channels] (RFC 4566 §6). */
const RTPMAP = /^([A-Za-z0-9][A-Za-z0-9._+-]*)\/(\d{1,7})(?:\/(\d{1,3}))?$/;
const IDENT = /^[A-Za-z_$][\w$]*$/;
/** A station's device name (15 characters at most on the wire) and optionally /line. */
const DEVICE = /^[A-Za-z0-9_.-]{1,15}(?:\/\d{1,3})?$/;

const joinPath = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : IDENT.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

/** What a wrong value was, short enough for one line. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

/** Each check throws at the first problem, so the operator gets exactly one line to fix. */
class Checker {
  constructor(private readonly label: string) {}

  fail(path: string, message: string): never {
    throw new ConfigError(path ? `${this.label}: ${path}: ${message}` : `${this.label}: ${message}`);
  }

  expected(path: string, what: string, got: unknown): never {
    return this.fail(path, `expected ${what}, got ${describe(got)}`);
  }

  object(v: unknown, path: string, keys: readonly string[], what = 'an object'): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.expected(path, what, v);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (keys.includes(k) || k.startsWith('_')) continue;
      const near = suggest(k, keys);
      this.fail(path, `unknown key ${JSON.stringify(k)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`);
    }
    return o;
  }

  /** An optional sub-object: absent is `{}` (all defaults). */
  section(parent: Record<string, unknown>, key: string, path: string, keys: readonly string[]): Record<string, unknown> {
    const v = parent[key];
    return v === undefined ? {} : this.object(v, joinPath(path, key), keys);
  }

  field<T>(o: Record<string, unknown>, key: string, path: string, dflt: T, read: (v: unknown, path: string) => T): T {
    const v = o[key];
    return v === undefined ? dflt : read(v, joinPath(path, key));
  }

  array<T>(v: unknown, path: string, item: (v: unknown, path: string) => T): T[] {
    if (!Array.isArray(v)) return this.expected(path, 'an array', v);
    return v.map((x: unknown, i) => item(x, joinPath(path, i)));
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string') return this.expected(path, 'a string', v);
    return v;
  }

  nonEmpty(v: unknown, path: string): string {
    const s = this.str(v, path);
    if (s.trim() === '') this.fail(path, 'must not be empty');
    return s;
  }

  path(v: unknown, path: string): string {
    return this.nonEmpty(v, path);
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') return this.expected(path, 'true or false', v);
    return v;
  }

  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.expected(path, `an integer ${min}-${max}`, v);
    if (v < min || v > max) this.expected(path, `an integer ${min}-${max}`, v);
    return v;
  }

  port(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) return this.expected(path, 'a port number 1-65535', v);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T {
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) return this.expected(path, `one of ${options.join(', ')}`, v);
    return v as T;
  }

  listen(v: unknown, path: string): string {
    const s = this.str(v, path);
    const r = parseListen(s);
    if (typeof r === 'string') this.fail(path, `${r}, got ${describe(s)}`);
    return s;
  }

  hep(v: unknown, path: string): HepInputConfig {
    const o = this.object(v, path, ['listen', 'transports', 'authKey']);
    if (o.listen === undefined) this.fail(path, 'missing "listen" (host:port, e.g. "0.0.0.0:9060")');
    const transports = this.field(o, 'transports', path, ['udp', 'tcp'], (x, p) => this.array(x, p, (t, tp) => this.oneOf(t, tp, ['udp', 'tcp'] as const)));
    if (transports.length === 0) this.fail(joinPath(path, 'transports'), 'must name udp, tcp or both');
    return {
      listen: this.listen(o.listen, joinPath(path, 'listen')),
      udp: transports.includes('udp'),
      tcp: transports.includes('tcp'),
      authKey: this.field(o, 'authKey', path, '', (x, p) => this.str(x, p)),
    };
  }

  netfeed(v: unknown, path: string): NetfeedConfig {
    const o = this.object(v, path, ['listen', 'key', 'mode', 'disallowedIps', 'edgeIps', 'relayGateways', 'silkPayloadTypes', 'learnEndpoints']);
    if (o.key === undefined) this.fail(path, 'missing "key" (the shared key of the Front Ends\' feed senders)');
    const key = this.str(o.key, joinPath(path, 'key'));
    // The key authenticates the feed: a guessable one lets anyone inject calls.
    if (key.length < 16) this.fail(joinPath(path, 'key'), `must be at least 16 characters, got ${key.length}`);
    const ips = (k: string): string[] => this.field(o, k, path, [], (x, p) => this.array(x, p, (s, sp) => this.ip(s, sp)));
    const silk = this.field<Record<string, number>>(o, 'silkPayloadTypes', path, {}, (x, p) => {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) return this.expected(p, 'an object like { "103": 16000, "104": 8000 }', x);
      const out: Record<string, number> = {};
      for (const [k, rate] of Object.entries(x as Record<string, unknown>)) {
        if (k.startsWith('_')) continue;
        const pt = /^\d{1,3}$/.test(k) ? Number(k) : NaN;
        if (!(pt >= 96 && pt <= 127)) this.fail(joinPath(p, k), `expected a dynamic payload type 96-127 as the key, got ${describe(k)}`);
        // SILK runs at 8, 12, 16 or 24 kHz (draft-vos-silk-02 §3).
        if (rate !== 8000 && rate !== 12000 && rate !== 16000 && rate !== 24000) this.expected(joinPath(p, k), 'a SILK clock rate: 8000, 12000, 16000 or 24000', rate);
        out[k] = rate;
      }
      return out;
    });
    return {
      listen: this.field(o, 'listen', path, '0.0.0.0:8008', (x, p) => this.listen(x, p)),
      key,
      mode: this.field(o, 'mode', path, 'mirroring', (x, p) => this.oneOf(x, p, NETFEED_MODES)),
      disallowedIps: ips('disallowedIps'),
      edgeIps: ips('edgeIps'),
      relayGateways: ips('relayGateways'),
      silkPayloadTypes: silk,
      learnEndpoints: this.field(o, 'learnEndpoints', path, true, (x, p) => this.bool(x, p)),
    };
  }

  iface(v: unknown, path: string): InterfaceConfig {
    const o = this.object(v, path, ['name', 'filter', 'snaplen', 'bufferMiB', 'promisc']);
    if (o.name === undefined) this.fail(path, 'missing "name" (the capture interface, e.g. "eth1")');
    const name = this.nonEmpty(o.name, joinPath(path, 'name'));
    if (/\s/.test(name)) this.expected(joinPath(path, 'name'), 'an interface name', name);
    return {
      name,
      filter: this.field(o, 'filter', path, '', (x, p) => this.str(x, p)),
      snaplen: this.field(o, 'snaplen', path, 262144, (x, p) => this.int(x, p, 64, 262144)),
      bufferMiB: this.field(o, 'bufferMiB', path, 32, (x, p) => this.int(x, p, 1, 4096)),
      promisc: this.field(o, 'promisc', path, true, (x, p) => this.bool(x, p)),
    };
  }

  user(v: unknown, path: string): UserConfig {
    const o = this.object(v, path, ['name', 'uris', 'numbers', 'ips', 'devices']);
    if (o.name === undefined) this.fail(path, 'missing "name"');
    const u: UserConfig = {
      name: this.nonEmpty(o.name, joinPath(path, 'name')),
      uris: this.field(o, 'uris', path, [], (x, p) => this.array(x, p, (s, sp) => this.pattern(s, sp, URI, 'a sip:, sips: or tel: URI'))),
      numbers: this.field(o, 'numbers', path, [], (x, p) => this.array(x, p, (s, sp) => this.pattern(s, sp, NUMBER, 'a phone number or extension'))),
      ips: this.field(o, 'ips', path, [], (x, p) => this.array(x, p, (s, sp) => this.ip(s, sp))),
    };
    if (o.devices !== undefined) u.devices = this.array(o.devices, joinPath(path, 'devices'), (s, sp) => this.pattern(s, sp, DEVICE, 'an SCCP device name like "SEP001122334455" or "SEP001122334455/2"'));
    // A user nothing can match would silently never be recorded.
    if (!u.uris.length && !u.numbers.length && !u.ips.length && !u.devices?.length) this.fail(path, `user "${u.name}" needs at least one of uris, numbers, ips`);
    return u;
  }

  pattern(v: unknown, path: string, re: RegExp, what: string): string {
    const s = this.str(v, path);
    if (!re.test(s.trim())) this.expected(path, what, s);
    return s.trim();
  }

  ip(v: unknown, path: string): string {
    const s = this.str(v, path);
    const family = isIP(s);
    if (family === 0) this.expected(path, 'an IPv4 or IPv6 address', s);
    return family === 6 ? canonicalIpv6(s) : s;
  }

  /** `{ "96": "opus/48000/2" }`: keys are payload types, values rtpmap text. */
  payloadTypes(v: unknown, path: string): Record<string, string> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.expected(path, 'an object like { "96": "opus/48000/2" }', v);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (k.startsWith('_')) continue;
      const p = joinPath(path, k);
      const pt = /^\d{1,3}$/.test(k) ? Number(k) : NaN;
      if (!(pt <= 127)) this.fail(p, `expected an RTP payload type 0-127 as the key, got ${describe(k)}`);
      // RFC 5761 §4: with RTP and RTCP on one port, 72-76 would read as RTCP packet types.
      if (pt >= 72 && pt <= 76) this.fail(p, `payload types 72-76 clash with RTCP (RFC 5761), got ${pt}`);
      const text = this.str(val, p).trim();
      const m = RTPMAP.exec(text);
      const rate = Number(m?.[2] ?? 0);
      const channels = m?.[3] === undefined ? 1 : Number(m[3]);
      if (!m || rate === 0 || channels === 0 || channels > 255) this.expected(p, 'encoding/clock-rate[/channels] like "opus/48000/2"', val);
      out[String(pt)] = text;
    }
    return out;
  }

  /** Names in one list must differ (two users called alice cannot both own calls). */
  unique(names: readonly string[], path: string, suffix: string, what: string): void {
    const seen = new Map<string, number>();
    names.forEach((n, i) => {
      const first = seen.get(n);
      if (first !== undefined) this.fail(`${path}[${i}]${suffix}`, `duplicate ${what} "${n}" (also ${path}[${first}])`);
      seen.set(n, i);
    });
  }

  /** A URI, number or address can belong to one user only, or calls would be attributed at random. */
  usersDistinct(users: readonly UserConfig[]): void {
    this.unique(users.map((u) => u.name), 'users', '.name', 'user');
    const owners = new Map<string, string>();
    users.forEach((u, i) => {
      const claim = (key: string, list: 'uris' | 'numbers' | 'ips' | 'devices', j: number, shown: string): void => {
        const owner = owners.get(key);
        if (owner !== undefined && owner !== u.name) this.fail(`users[${i}].${list}[${j}]`, `${shown} already belongs to user "${owner}"`);
        owners.set(key, u.name);
      };
      u.uris.forEach((x, j) => claim(`uri ${x.toLowerCase()}`, 'uris', j, x));
      u.numbers.forEach((x, j) => claim(`number ${x.replace(/[^\d*#]/g, '')}`, 'numbers', j, x));
      u.ips.forEach((x, j) => claim(`ip ${x.toLowerCase()}`, 'ips', j, x));
      u.devices?.forEach((x, j) => claim(`device ${x.toUpperCase()}`, 'devices', j, x));
    });
  }
}

/**
 * Addresses are matched as text, so write IPv6 the one way packets are formatted (RFC 5952, as
 * core/address.ts): the URL serializer does that, except that IPv4-mapped ones keep the dotted quad.
 */
export function canonicalIpv6(s: string): string {
  const c = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(c);
  if (!m) return c;
  const hi = parseInt(m[1] ?? '0', 16);
  const lo = parseInt(m[2] ?? '0', 16);
  return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The allowed key closest to a misspelt one, if close enough to be a typo. */
export function suggest(key: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(key.toLowerCase(), o.toLowerCase());
    if (d < bestD) [best, bestD] = [o, d];
  }
  return bestD <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: a swap of two neighbours counts as one typo ('inptus'). */
function editDistance(a: string, b: string): number {
  const w = b.length + 1;
  const d = new Array<number>((a.length + 1) * w).fill(0);
  const at = (i: number, j: number): number => d[i * w + j] ?? 0;
  for (let i = 0; i <= a.length; i++) d[i * w] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * w + j] = v;
    }
  }
  return at(a.length, b.length);
}

function readError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}

/** One line with line and column; our scanner finds the spot, V8's message is the fallback. */
function jsonError(text: string, err: unknown): string {
  const found = findJsonSyntaxError(text);
  if (found) return `invalid JSON at line ${found.line}, column ${found.column}: ${found.message}`;
  return `invalid JSON: ${(err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim()}`;
}
