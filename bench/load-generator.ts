import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { encodeUlaw } from '../codecs/g711.js';
import { CallScenario, sdp } from '../test/support/call-scenario.js';
import { speech } from '../test/support/codec-reference.js';

/**
 * Issue 8 load generator, run as its own process so its CPU is not the recorder's:
 * `node dist/bench/load-generator.js --calls N --seconds S --ramp R --base-port P [--sockets K]`.
 * N SIP calls on 127.0.0.1 only (INVITE+SDP / 200+SDP / ACK, RTP both ways at 20 ms with µ-law
 * speech, BYE / 200), starts staggered over R s, each S s long, paced in real time. Bounded in
 * count and time; prints one JSON line at the end.
 */
const LO = '127.0.0.1';
const PTIME_MS = 20;
const MAX_CALLS = 5000;
const MAX_SECONDS = 3600;

/** Port layout shared with bench/capacity.ts, so its BPF filter covers exactly what we send. */
export interface PortLayout {
  /** The few sockets everything is sent from (SIP endpoints too): base .. base+sockets-1. */
  sockets: number[];
  callerRtp: (i: number) => number;
  calleeRtp: (i: number) => number;
  first: number;
  last: number;
}

export function portLayout(base: number, calls: number, sockets = 4): PortLayout {
  // RTP ports even (RTCP would be +1), 4 apart per call, after a gap past the sockets.
  const rtpBase = base + 16;
  return {
    sockets: Array.from({ length: sockets }, (_, k) => base + k),
    callerRtp: (i) => rtpBase + 4 * i,
    calleeRtp: (i) => rtpBase + 4 * i + 2,
    first: base,
    last: rtpBase + 4 * calls + 3,
  };
}

export interface GeneratorResult {
  calls: number;
  seconds: number;
  ramp: number;
  callsStarted: number;
  callsEnded: number;
  rtpPackets: number;
  sipMessages: number;
  /** Every UDP datagram put on lo (RTP + SIP): what the capture filter should see. */
  packetsOffered: number;
  sendErrors: number;
  /** Ticks that ran more than one ptime late (the generator falling behind). */
  lateTicks: number;
  maxLateMs: number;
  wallSeconds: number;
  cpuSeconds: number;
  payload: 'speech' | 'tone';
  timedOut: boolean;
}

interface CallState {
  i: number;
  startMs: number;
  /** Next packet number to send, per direction (both advance together). */
  next: number;
  phase: 0 | 1 | 2; // pending, media, ended
  sc: CallScenario;
  caller: dgram.Socket;
  callee: dgram.Socket;
  callerSipPort: number;
  calleeSipPort: number;
}

/** 160-byte µ-law frames of speech (espeak-ng + sox, as the codec tests use); a tone if those fail. */
function ulawFrames(): { frames: Buffer; count: number; kind: 'speech' | 'tone' } {
  let pcm: Int16Array;
  let kind: 'speech' | 'tone' = 'speech';
  try {
    pcm = speech(8000, 4);
  } catch {
    kind = 'tone';
    pcm = new Int16Array(32000);
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  }
  const count = Math.floor(pcm.length / 160);
  const frames = Buffer.alloc(count * 160);
  for (let i = 0; i < count * 160; i++) frames[i] = encodeUlaw(pcm[i]!);
  return { frames, count, kind };
}

function arg(argv: string[], name: string, dflt: number): number {
  const k = argv.indexOf(`--${name}`);
  const v = k >= 0 ? Number(argv[k + 1]) : dflt;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: bad value`);
  return v;
}

export async function generate(calls: number, seconds: number, ramp: number, basePort: number, nSockets: number): Promise<GeneratorResult> {
  if (calls < 1 || calls > MAX_CALLS) throw new Error(`--calls must be 1..${MAX_CALLS}`);
  if (seconds <= 0 || seconds > MAX_SECONDS) throw new Error(`--seconds must be in (0, ${MAX_SECONDS}]`);
  if (nSockets < 2 || nSockets % 2 !== 0) throw new Error('--sockets must be even and ≥ 2');
  const layout = portLayout(basePort, calls, nSockets);
  if (basePort < 1024 || layout.last > 65535) throw new Error('port range out of bounds');
  const cpu0 = process.cpuUsage();
  const { frames, count: nFrames, kind } = ulawFrames();

  const socks = await Promise.all(
    layout.sockets.map(
      (port) =>
        new Promise<dgram.Socket>((resolve, reject) => {
          const s = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
          s.once('error', reject);
          s.bind(port, LO, () => {
            s.off('error', reject);
            resolve(s);
          });
        }),
    ),
  );
  let sendErrors = 0;
  // SIP arrives on our own sockets (they are the SIP endpoints): read and dropped.
  for (const s of socks) {
    s.on('error', () => sendErrors++);
    s.on('message', () => undefined);
  }

  const perDir = Math.round((seconds * 1000) / PTIME_MS);
  const half = nSockets / 2;
  const state: CallState[] = [];
  for (let i = 0; i < calls; i++) {
    // Callers on even sockets, callees on odd ones: a few sockets carry every call.
    const c = 2 * (i % half);
    const caller = socks[c]!;
    const callee = socks[c + 1]!;
    const callerSipPort = layout.sockets[c]!;
    const calleeSipPort = layout.sockets[c + 1]!;
    const sc = new CallScenario(`load-${i}-${basePort}@bench`, { ip: LO, sipPort: callerSipPort }, { ip: LO, sipPort: calleeSipPort });
    state.push({ i, startMs: calls > 1 ? (ramp * 1000 * i) / calls : 0, next: 0, phase: 0, sc, caller, callee, callerSipPort, calleeSipPort });
  }

  let rtpPackets = 0;
  let sipMessages = 0;
  const sip = (from: dgram.Socket, toPort: number, text: string): void => {
    sipMessages++;
    from.send(text, toPort, LO);
  };
  const rtp = (from: dgram.Socket, toPort: number, seq: number, ts: number, ssrc: number, frame: number): void => {
    // A fresh buffer per datagram: dgram may queue it, so reusing one could send altered bytes.
    const b = Buffer.allocUnsafe(172);
    b[0] = 0x80;
    b[1] = 0; // PCMU
    b.writeUInt16BE(seq & 0xffff, 2);
    b.writeUInt32BE(ts >>> 0, 4);
    b.writeUInt32BE(ssrc >>> 0, 8);
    frames.copy(b, 12, frame * 160, frame * 160 + 160);
    rtpPackets++;
    from.send(b, toPort, LO);
  };

  let active = calls;
  let callsStarted = 0;
  let callsEnded = 0;
  let lateTicks = 0;
  let maxLateMs = 0;
  const t0 = performance.now();
  const deadlineMs = (ramp + seconds) * 1000 + 10_000;
  let timedOut = false;

  const tick = (): void => {
    const now = performance.now() - t0;
    for (const c of state) {
      if (c.phase === 2 || c.startMs > now) continue;
      if (c.phase === 0) {
        c.phase = 1;
        callsStarted++;
        sip(c.caller, c.calleeSipPort, c.sc.request('INVITE', 'caller', { body: sdp({ ip: LO, port: layout.callerRtp(c.i), pts: [0] }), cseq: 1 }));
        sip(c.callee, c.callerSipPort, c.sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: LO, port: layout.calleeRtp(c.i), pts: [0] }) }));
        sip(c.caller, c.calleeSipPort, c.sc.request('ACK', 'caller', { toTag: 'callee-tag', cseq: 1, branch: 'z9hG4bK-ack' }));
      }
      // Every packet due by now (packet k is due at start + k·ptime): catches up after a late tick.
      const due = Math.min(perDir, Math.floor((now - c.startMs) / PTIME_MS) + 1);
      for (; c.next < due; c.next++) {
        const k = c.next;
        rtp(c.caller, layout.calleeRtp(c.i), 1000 + c.i * 7 + k, c.i * 1000 + k * 160, 0x10000000 + c.i, (c.i * 13 + k) % nFrames);
        rtp(c.callee, layout.callerRtp(c.i), 2000 + c.i * 11 + k, c.i * 3000 + k * 160, 0x20000000 + c.i, (c.i * 29 + k + 100) % nFrames);
      }
      if (c.next >= perDir) {
        c.phase = 2;
        active--;
        callsEnded++;
        sip(c.caller, c.calleeSipPort, c.sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 2 }));
        sip(c.callee, c.callerSipPort, c.sc.response(200, 'OK', 'callee', 2, 'BYE', { toTag: 'callee-tag' }));
      }
    }
  };

  await new Promise<void>((resolve) => {
    let k = 0;
    const loop = (): void => {
      const now = performance.now() - t0;
      const late = now - k * PTIME_MS;
      if (late > PTIME_MS) lateTicks++;
      maxLateMs = Math.max(maxLateMs, late);
      tick();
      if (active === 0) return resolve();
      if (performance.now() - t0 > deadlineMs) {
        timedOut = true;
        return resolve();
      }
      // Schedule against the start time, not the last tick, so timer drift does not accumulate.
      k = Math.max(k + 1, Math.floor((performance.now() - t0) / PTIME_MS) + 1);
      setTimeout(loop, Math.max(0, t0 + k * PTIME_MS - performance.now()));
    };
    loop();
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  // Let queued datagrams leave before closing.
  await new Promise((r) => setTimeout(r, 200));
  for (const s of socks) s.close();
  const cpu = process.cpuUsage(cpu0);
  return {
    calls,
    seconds,
    ramp,
    callsStarted,
    callsEnded,
    rtpPackets,
    sipMessages,
    packetsOffered: rtpPackets + sipMessages,
    sendErrors,
    lateTicks,
    maxLateMs: Math.round(maxLateMs),
    wallSeconds: Number(wallSeconds.toFixed(3)),
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
    payload: kind,
    timedOut,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = process.argv.slice(2);
  const r = await generate(arg(a, 'calls', 100), arg(a, 'seconds', 20), arg(a, 'ramp', 5), arg(a, 'base-port', 40000), arg(a, 'sockets', 4));
  console.log(JSON.stringify(r));
}
