/**
 * The agent's JSON config, checked at start-up: a mistake stops the agent with ONE line naming the
 * key (`agent.json: filter.udpPorts[1]: expected a port or "from-to" range, got "5000-"`), unknown
 * keys are errors (with a suggestion), keys starting with `_` are comments. Every key is optional.
 *
 *   agentId            HEP capture agent id (chunk 0x000c), default 2001
 *   authKey            HEP auth key sent in every packet (chunk 0x000e), default none
 *   capture            iface, snaplen, bufferMiB, promisc (promiscuous is off by default: the agent
 *                      captures its own host's traffic)
 *   filter             ips (addresses or CIDR networks), udpPorts, tcpPorts (ports or "a-b" ranges);
 *                      empty lists mean any. Built into the kernel BPF and checked again in JS.
 *   turn.serverPorts   where TURN servers listen (tells client from server mid-call)
 *   sip.ports          SIP ports (CRLF keep-alives)
 *   destinations       [{ to: "[udp:|tcp:]HOST:PORT", ips: [...] }] (per-destination tenant filter)
 *   mode               "fanout" (default) or "failover"
 *   buffer             memoryMiB (per TCP destination), diskDir ('' = no spill), diskMiB
 *   tcp                reconnectMs, ack ("auto" or "off")
 *   metrics            { listen: "HOST:PORT" } or null
 *   statusIntervalSec  one-line status to stderr every N seconds; 0 = off
 */
import { readFileSync } from 'node:fs';
import { suggest } from '../recorder/ops/config.js';
import { findJsonSyntaxError } from '../recorder/ops/json-syntax.js';
import { parseListen } from '../recorder/ops/listen-address.js';
import { DEFAULT_TURN_SERVER_PORTS } from '../recorder/turn/turn-input.js';
import { parseNetwork, type Network, type PortRange } from './capture/interest.js';
import { parseDestination, type Transport } from './output/destination.js';
import type { OutputMode } from './output/destination-set.js';

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

export interface AgentDestinationConfig {
  to: string;
  transport: Transport;
  host: string;
  port: number;
  ips: Network[];
}

export interface AgentConfig {
  agentId: number;
  authKey: string;
  capture: { iface: string; snaplen: number; bufferMiB: number; promisc: boolean };
  filter: { ips: Network[]; udpPorts: PortRange[]; tcpPorts: PortRange[] };
  turn: { serverPorts: number[] };
  sip: { ports: number[] };
  destinations: AgentDestinationConfig[];
  mode: OutputMode;
  buffer: { memoryMiB: number; diskDir: string; diskMiB: number };
  tcp: { reconnectMs: number; ack: 'auto' | 'off' };
  metrics: { listen: string } | null;
  statusIntervalSec: number;
}

const TOP = ['agentId', 'authKey', 'capture', 'filter', 'turn', 'sip', 'destinations', 'mode', 'buffer', 'tcp', 'metrics', 'statusIntervalSec'];

type Obj = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}

class Check {
  constructor(private readonly label: string) {}

  fail(path: string, msg: string): never {
    throw new AgentConfigError(`${this.label}: ${path ? `${path}: ` : ''}${msg}`);
  }

  expected(path: string, what: string, v: unknown): never {
    return this.fail(path, `expected ${what}, got ${describe(v)}`);
  }

  obj(v: unknown, path: string, keys: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.expected(path, 'an object', v);
    for (const k of Object.keys(v)) {
      if (keys.includes(k) || k.startsWith('_')) continue;
      const near = suggest(k, keys);
      this.fail(path, `unknown key ${JSON.stringify(k)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`);
    }
    return v as Obj;
  }

  section(o: Obj, key: string, keys: readonly string[]): Obj {
    return o[key] === undefined ? {} : this.obj(o[key], key, keys);
  }

  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return this.expected(path, `an integer ${min}-${max}`, v);
    return v;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string') return this.expected(path, 'a string', v);
    return v;
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') return this.expected(path, 'true or false', v);
    return v;
  }

  list<T>(v: unknown, path: string, item: (x: unknown, p: string) => T): T[] {
    if (!Array.isArray(v)) return this.expected(path, 'an array', v);
    return v.map((x: unknown, i) => item(x, `${path}[${i}]`));
  }

  range(v: unknown, path: string): PortRange {
    if (typeof v === 'number') {
      const p = this.int(v, path, 1, 65535);
      return { from: p, to: p };
    }
    const m = typeof v === 'string' ? /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v.trim()) : null;
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!m || from < 1 || to > 65535 || from > to) return this.expected(path, 'a port or "from-to" range', v);
    return { from, to };
  }

  network(v: unknown, path: string): Network {
    const r = parseNetwork(this.str(v, path));
    if (typeof r === 'string') this.fail(path, r);
    return r;
  }
}

export function defaultAgentConfig(): AgentConfig {
  return validateAgentConfig({}, '(defaults)');
}

export function loadAgentConfig(path: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AgentConfigError(`${path}: cannot read: ${code === 'ENOENT' ? 'no such file' : code ?? String(err)}`);
  }
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    const at = findJsonSyntaxError(body);
    throw new AgentConfigError(`${path}: ${at ? `invalid JSON at line ${at.line}, column ${at.column}: ${at.message}` : `invalid JSON: ${err instanceof Error ? err.message : String(err)}`}`);
  }
  return validateAgentConfig(raw, path);
}

export function validateAgentConfig(raw: unknown, label: string): AgentConfig {
  const c = new Check(label);
  const top = c.obj(raw, '', TOP);
  const cap = c.section(top, 'capture', ['iface', 'snaplen', 'bufferMiB', 'promisc']);
  const filter = c.section(top, 'filter', ['ips', 'udpPorts', 'tcpPorts']);
  const turn = c.section(top, 'turn', ['serverPorts']);
  const sip = c.section(top, 'sip', ['ports']);
  const buffer = c.section(top, 'buffer', ['memoryMiB', 'diskDir', 'diskMiB']);
  const tcp = c.section(top, 'tcp', ['reconnectMs', 'ack']);
  const port = (v: unknown, p: string): number => c.int(v, p, 1, 65535);
  const opt = <T>(o: Obj, key: string, path: string, dflt: T, read: (v: unknown, p: string) => T): T => (o[key] === undefined ? dflt : read(o[key], path ? `${path}.${key}` : key));

  const destinations = opt(top, 'destinations', '', [] as AgentDestinationConfig[], (v, p) =>
    c.list(v, p, (x, xp) => {
      const o = c.obj(x, xp, ['to', 'ips']);
      if (o.to === undefined) c.fail(xp, 'missing "to" ([udp:|tcp:]HOST:PORT)');
      const to = c.str(o.to, `${xp}.to`);
      const d = parseDestination(to);
      if (typeof d === 'string') return c.fail(`${xp}.to`, `${d}, got ${describe(to)}`);
      return { to, transport: d.transport, host: d.host, port: d.port, ips: opt(o, 'ips', xp, [] as Network[], (y, yp) => c.list(y, yp, (z, zp) => c.network(z, zp))) };
    }),
  );

  let metrics: AgentConfig['metrics'] = null;
  if (top.metrics !== undefined && top.metrics !== null) {
    const m = c.obj(top.metrics, 'metrics', ['listen']);
    const listen = c.str(m.listen, 'metrics.listen');
    const r = parseListen(listen);
    if (typeof r === 'string') c.fail('metrics.listen', `${r}, got ${describe(listen)}`);
    metrics = { listen };
  }
  const mode = opt(top, 'mode', '', 'fanout', (v, p) => {
    if (v !== 'fanout' && v !== 'failover') return c.expected(p, 'one of fanout, failover', v);
    return v;
  });
  const ack = opt(tcp, 'ack', 'tcp', 'auto', (v, p) => {
    if (v !== 'auto' && v !== 'off') return c.expected(p, 'one of auto, off', v);
    return v;
  });

  return {
    agentId: opt(top, 'agentId', '', 2001, (v, p) => c.int(v, p, 0, 0xffffffff)),
    authKey: opt(top, 'authKey', '', '', (v, p) => {
      const s = c.str(v, p);
      if (Buffer.byteLength(s) > 1024) c.fail(p, 'longer than 1024 bytes');
      return s;
    }),
    capture: {
      iface: opt(cap, 'iface', 'capture', '', (v, p) => c.str(v, p)),
      snaplen: opt(cap, 'snaplen', 'capture', 262144, (v, p) => c.int(v, p, 64, 262144)),
      bufferMiB: opt(cap, 'bufferMiB', 'capture', 32, (v, p) => c.int(v, p, 1, 4096)),
      promisc: opt(cap, 'promisc', 'capture', false, (v, p) => c.bool(v, p)),
    },
    filter: {
      ips: opt(filter, 'ips', 'filter', [] as Network[], (v, p) => c.list(v, p, (x, xp) => c.network(x, xp))),
      udpPorts: opt(filter, 'udpPorts', 'filter', [] as PortRange[], (v, p) => c.list(v, p, (x, xp) => c.range(x, xp))),
      tcpPorts: opt(filter, 'tcpPorts', 'filter', [] as PortRange[], (v, p) => c.list(v, p, (x, xp) => c.range(x, xp))),
    },
    turn: { serverPorts: opt(turn, 'serverPorts', 'turn', [...DEFAULT_TURN_SERVER_PORTS], (v, p) => c.list(v, p, port)) },
    sip: { ports: opt(sip, 'ports', 'sip', [5060, 5061, 5080], (v, p) => c.list(v, p, port)) },
    destinations,
    mode,
    buffer: {
      memoryMiB: opt(buffer, 'memoryMiB', 'buffer', 128, (v, p) => c.int(v, p, 1, 16384)),
      diskDir: opt(buffer, 'diskDir', 'buffer', '', (v, p) => c.str(v, p)),
      diskMiB: opt(buffer, 'diskMiB', 'buffer', 1024, (v, p) => c.int(v, p, 1, 1 << 20)),
    },
    tcp: { reconnectMs: opt(tcp, 'reconnectMs', 'tcp', 250, (v, p) => c.int(v, p, 10, 60000)), ack },
    metrics,
    statusIntervalSec: opt(top, 'statusIntervalSec', '', 10, (v, p) => c.int(v, p, 0, 86400)),
  };
}
