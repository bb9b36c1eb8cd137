/**
 * Helpers for the SIPREC server tests: a recorder with the SRS on loopback, a minimal SIP client
 * over UDP or TCP that collects responses, fixture bodies turned into whole requests, and an RTP
 * sender of G.711 tones.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, readFileSync } from 'node:fs';
import { connect, type Socket as TcpSocket } from 'node:net';
import { join } from 'node:path';
import { CallRecorder } from '../../../recorder/call-recorder.js';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { UsersDirectory, type UserEntry } from '../../../recorder/calls/users-directory.js';
import { Counters } from '../../../recorder/core/counters.js';
import { MediaJobPool } from '../../../recorder/media/job-pool.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import { parseSipMessage, type SipMessage } from '../../../recorder/sip/message.js';
import { parseRsMetadata, type RecordingMetadata } from '../../../recorder/siprec/rs-metadata.js';
import { SiprecServer } from '../../../recorder/siprec/siprec-server.js';
import type { SiprecOptions } from '../../../recorder/siprec/siprec-options.js';
import { SpoolDirectory } from '../../../recorder/spool/spool-directory.js';
import { tempDir } from '../../support/temp-dir.js';

export const SHARED = '/work/shared/fixtures/public/siprec/';
export const FIXTURES = new URL('../../../../fixtures/siprec/', import.meta.url).pathname;

export interface Rig {
  counters: Counters;
  recorder: CallRecorder;
  server: SiprecServer;
  pool: MediaJobPool;
  dir: string;
  port: number;
  records: CallRecord[];
  /** Ends everything; resolves with the records. */
  close(): Promise<CallRecord[]>;
}

export async function startRig(opts: Partial<SiprecOptions> & { users?: UserEntry[]; render?: boolean } = {}): Promise<Rig> {
  const dir = tempDir('siprec-');
  mkdirSync(join(dir, 'rec'));
  const counters = new Counters();
  const pool = new MediaJobPool(1);
  const spool = new SpoolDirectory(join(dir, 'spool'), counters);
  spool.start();
  const render = opts.render ?? true;
  const recorder = new CallRecorder({
    counters,
    users: new UsersDirectory(opts.users ?? []),
    spool,
    pool: render ? pool : null,
    recordingsDir: join(dir, 'rec'),
    format: 'wav',
  });
  const pipeline = new Pipeline(counters, recorder);
  const server = new SiprecServer({ registry: recorder.registry, inject: (p) => pipeline.inject(p), counters }, { host: '127.0.0.1', port: 0, ...opts });
  await server.start();
  const rig: Rig = {
    counters,
    recorder,
    server,
    pool,
    dir,
    port: server.ports.udp,
    records: recorder.records,
    close: async () => {
      await server.stop();
      // Bounded: a render job that never returns (the media pool is another part's) must not hang the suite.
      let timer: NodeJS.Timeout | undefined;
      const recs = await Promise.race([
        recorder.finish(Date.now() / 1000, 'test-end'),
        new Promise<CallRecord[]>((_, reject) => {
          timer = setTimeout(() => reject(new Error('recorder.finish did not complete within 20 s (media pool)')), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
      await spool.closeAll();
      await pool.close();
      return recs;
    },
  };
  return rig;
}

/** A SIP client on loopback: sends text requests (LF turned into CRLF), collects what comes back. */
export class SipClient {
  readonly received: SipMessage[] = [];
  private readonly waiters: { pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];
  private udp: Socket | null = null;
  private tcp: TcpSocket | null = null;
  private tcpBuf = Buffer.alloc(0);
  localPort = 0;
  private readonly counters = new Counters();

  private constructor(
    private readonly serverPort: number,
    readonly transport: 'UDP' | 'TCP',
  ) {}

  static async open(serverPort: number, transport: 'UDP' | 'TCP' = 'UDP'): Promise<SipClient> {
    const c = new SipClient(serverPort, transport);
    if (transport === 'UDP') {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      s.on('message', (b) => c.deliver(b));
      c.udp = s;
      c.localPort = s.address().port;
    } else {
      const t = connect(serverPort, '127.0.0.1');
      await new Promise<void>((r) => t.once('connect', () => r()));
      t.on('data', (d: Buffer) => c.tcpData(d));
      c.tcp = t;
      c.localPort = t.localPort ?? 0;
    }
    return c;
  }

  send(text: string | Buffer): void {
    const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    if (this.udp) this.udp.send(data, this.serverPort, '127.0.0.1');
    else this.tcp?.write(data);
  }

  /** The next (or an already received) message matching pred. */
  wait(pred: (m: SipMessage) => boolean, timeoutMs = 3000): Promise<SipMessage> {
    const hit = this.received.find(pred);
    if (hit) {
      this.received.splice(this.received.indexOf(hit), 1);
      return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error(`timeout waiting for a SIP message (got ${this.received.map((m) => `${m.status || m.method} ${m.cseqMethod}`).join(', ')})`));
        }
      }, timeoutMs);
    });
  }

  status(code: number, method = 'INVITE', timeoutMs = 3000): Promise<SipMessage> {
    return this.wait((m) => !m.isRequest && m.status === code && m.cseqMethod === method, timeoutMs);
  }

  close(): void {
    this.udp?.close();
    this.tcp?.destroy();
  }

  private deliver(b: Buffer): void {
    const m = parseSipMessage(b, 0, b.length, this.counters);
    if (m === null) return;
    const w = this.waiters.find((x) => x.pred(m));
    if (w) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(m);
    } else this.received.push(m);
  }

  private tcpData(d: Buffer): void {
    this.tcpBuf = Buffer.concat([this.tcpBuf, d]);
    for (;;) {
      const s = this.tcpBuf.toString('latin1');
      const he = s.indexOf('\r\n\r\n');
      if (he < 0) return;
      const cl = Number(/content-length:\s*(\d+)/i.exec(s.slice(0, he))?.[1] ?? 0);
      if (this.tcpBuf.length < he + 4 + cl) return;
      const msg = Buffer.from(this.tcpBuf.subarray(0, he + 4 + cl));
      this.tcpBuf = this.tcpBuf.subarray(he + 4 + cl);
      this.deliver(msg);
    }
  }
}

export interface RequestOptions {
  method?: string;
  callId: string;
  cseq?: number;
  fromTag?: string;
  toTag?: string;
  branch?: string;
  contentType?: string;
  body?: string;
  /** Extra header lines ("Name: value"). */
  headers?: string[];
  clientPort: number;
  serverPort: number;
  transport?: 'UDP' | 'TCP';
  /** Keep LF-only line ends in the body (default: CRLF). */
  lfOnly?: boolean;
}

let branchSeq = 0;

/** A whole request; the body's line ends become CRLF unless lfOnly. */
export function request(o: RequestOptions): string {
  const method = o.method ?? 'INVITE';
  const tr = o.transport ?? 'UDP';
  const body = o.body === undefined ? '' : o.lfOnly ? o.body : o.body.replace(/\r?\n/g, '\r\n');
  const lines = [
    `${method} sip:srs@127.0.0.1:${o.serverPort} SIP/2.0`,
    `Via: SIP/2.0/${tr} 127.0.0.1:${o.clientPort};branch=${o.branch ?? `z9hG4bK-t${process.pid}-${++branchSeq}`};rport`,
    'Max-Forwards: 70',
    `From: "SRC" <sip:src@127.0.0.1:${o.clientPort}>;tag=${o.fromTag ?? 'src-tag'}`,
    `To: <sip:srs@127.0.0.1:${o.serverPort}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${method === 'ACK' || method === 'CANCEL' ? method : method}`,
    `Contact: <sip:src@127.0.0.1:${o.clientPort}>;+sip.src`,
    ...(o.headers ?? []),
  ];
  if (body) lines.push(`Content-Type: ${o.contentType ?? 'application/sdp'}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** A fixture body (body-only file) and its multipart Content-Type. */
export function fixtureBody(path: string): { body: string; contentType: string } {
  const text = readFileSync(path, 'utf8');
  const m = /^--(\S+)/m.exec(text);
  if (!m) return { body: text, contentType: 'application/sdp' };
  return { body: text, contentType: `multipart/mixed;boundary=${m[1]}` };
}

/** Put our media address into an SDP (c= lines) so RTP can be sent from loopback. */
export const loopbackSdp = (body: string): string => body.replace(/^c=IN IP4 .*$/gm, 'c=IN IP4 127.0.0.1');

/** µ-law/A-law encode of a linear sample (G.711), enough for test tones. */
export function linearToUlaw(x: number): number {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, Math.round(x)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += BIAS;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

/** Send `count` 20 ms G.711 µ-law packets of a tone to 127.0.0.1:port; resolves when sent. */
export async function sendTone(port: number, o: { ssrc: number; freq: number; count: number; pt?: number; intervalMs?: number; from?: Socket }): Promise<void> {
  const s = o.from ?? createSocket('udp4');
  let seq = 1000;
  let ts = 160 * 7;
  for (let i = 0; i < o.count; i++) {
    const b = Buffer.alloc(12 + 160);
    b[0] = 0x80;
    b[1] = o.pt ?? 0;
    b.writeUInt16BE(seq++ & 0xffff, 2);
    b.writeUInt32BE(ts >>> 0, 4);
    b.writeUInt32BE(o.ssrc >>> 0, 8);
    for (let k = 0; k < 160; k++) b[12 + k] = linearToUlaw(8000 * Math.sin((2 * Math.PI * o.freq * (i * 160 + k)) / 8000));
    ts += 160;
    s.send(b, port, '127.0.0.1');
    if ((o.intervalMs ?? 0) > 0) await new Promise((r) => setTimeout(r, o.intervalMs));
    else if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 20));
  if (!o.from) s.close();
}

/** Ports of the m-lines in an SDP answer. */
export const answerPorts = (m: SipMessage): number[] => [...m.body.toString().matchAll(/^m=audio (\d+)/gm)].map((x) => Number(x[1]));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Parsed rs-metadata, asserting it parsed. */
export function parse(text: string): RecordingMetadata {
  const r = parseRsMetadata(text);
  assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.error}`);
  return r.metadata;
}

/** participant aor → labels it sends (through stream ids), its role. */
export function summary(md: RecordingMetadata): { aor: string; name: string; send: string[]; recv: string[]; role: string; associate: string }[] {
  const label = new Map(md.streams.map((s) => [s.id, s.label]));
  return md.participants.map((p) => ({
    aor: p.aor,
    name: p.name,
    send: p.send.map((id) => label.get(id) ?? `?${id}`),
    recv: p.recv.map((id) => label.get(id) ?? `?${id}`),
    role: p.role,
    associate: p.associateTime,
  }));
}
