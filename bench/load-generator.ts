import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { encodeUlaw } from '../codecs/g711.js';
import { BatchSender } from '../recorder/capture/batch-sender.js';
import { CallScenario, sdp } from '../test/support/call-scenario.js';
import { speech } from '../test/support/codec-reference.js';

/**
 * Issue 8 load generator, run as its own process so its CPU is not the recorder's:
 * `node dist/bench/load-generator.js --iface IF --calls N --seconds S --ramp R --base-port P`.
 * N SIP calls (INVITE+SDP / 200+SDP / ACK, RTP both ways at 20 ms with µ-law speech, BYE / 200),
 * starts staggered over R s, each S s long, paced in real time. Every datagram is a whole Ethernet
 * frame written onto IF (one end of a veth pair that bench/capacity.ts makes inside a network
 * namespace of its own) with sendmmsg: no socket, no UDP lookup and no ICMP reply on the receiving
 * side (the addresses, in 198.18.0.0/15 of RFC 2544, belong to nobody there, so the kernel drops the
 * frames after the capture taps have seen them). Bounded in count and time; prints one JSON line.
 */
const CALLER_IP = '198.18.0.1';
const CALLEE_IP = '198.18.0.2';
const PTIME_MS = 20;
const MAX_CALLS = 5000;
const MAX_SECONDS = 3600;
const ETH = 14;
const IP4 = 20;
const UDP = 8;
const RTP_LEN = 12 + 160;

/** Port layout shared with bench/capacity.ts, so its BPF filter covers exactly what we send. */
export interface PortLayout {
  /** SIP ports of the caller and the callee side (every call's signaling, told apart by Call-ID). */
  callerSip: number;
  calleeSip: number;
  callerRtp: (i: number) => number;
  calleeRtp: (i: number) => number;
  first: number;
  last: number;
}

export function portLayout(base: number, calls: number): PortLayout {
  // RTP ports even (RTCP would be +1), 4 apart per call, after a gap past the SIP ports.
  const rtpBase = base + 16;
  return {
    callerSip: base,
    calleeSip: base + 1,
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
  /** Every frame put on the interface (RTP + SIP): what the capture filter should see. */
  packetsOffered: number;
  /** Frames the packet socket would not take (its buffer full). */
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
  /** Ethernet + IPv4 + UDP + RTP header (54 bytes) per direction; seq and timestamp patched per packet. */
  toCallee: Buffer;
  toCaller: Buffer;
}

const ipBytes = (ip: string): number[] => ip.split('.').map(Number);

/** RFC 791 header checksum over the 20 bytes at `off`. */
function ipChecksum(b: Buffer, off: number): number {
  let sum = 0;
  for (let i = 0; i < IP4; i += 2) sum += b.readUInt16BE(off + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Ethernet II + IPv4 (DF, TTL 64) + UDP (checksum 0: none, RFC 768) headers for a payload of `len` bytes. */
function udpHeaders(src: string, sport: number, dst: string, dport: number, len: number, into: Buffer, off: number): void {
  // Locally administered MACs; the receiving veth takes any destination MAC in promiscuous capture.
  into.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00], off);
  const ip = off + ETH;
  into.fill(0, ip, ip + IP4 + UDP);
  into[ip] = 0x45;
  into.writeUInt16BE(IP4 + UDP + len, ip + 2);
  into.writeUInt16BE(0x4000, ip + 6);
  into[ip + 8] = 64;
  into[ip + 9] = 17;
  into.set(ipBytes(src), ip + 12);
  into.set(ipBytes(dst), ip + 16);
  into.writeUInt16BE(ipChecksum(into, ip), ip + 10);
  const udp = ip + IP4;
  into.writeUInt16BE(sport, udp);
  into.writeUInt16BE(dport, udp + 2);
  into.writeUInt16BE(UDP + len, udp + 4);
}

function rtpTemplate(src: string, sport: number, dst: string, dport: number, ssrc: number): Buffer {
  const t = Buffer.alloc(ETH + IP4 + UDP + 12);
  udpHeaders(src, sport, dst, dport, RTP_LEN, t, 0);
  const r = ETH + IP4 + UDP;
  t[r] = 0x80;
  t[r + 1] = 0; // PCMU
  t.writeUInt32BE(ssrc >>> 0, r + 8);
  return t;
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

export async function generate(iface: string, calls: number, seconds: number, ramp: number, basePort: number): Promise<GeneratorResult> {
  if (calls < 1 || calls > MAX_CALLS) throw new Error(`--calls must be 1..${MAX_CALLS}`);
  if (seconds <= 0 || seconds > MAX_SECONDS) throw new Error(`--seconds must be in (0, ${MAX_SECONDS}]`);
  const layout = portLayout(basePort, calls);
  if (basePort < 1024 || layout.last > 65535) throw new Error('port range out of bounds');
  const cpu0 = process.cpuUsage();
  const { frames, count: nFrames, kind } = ulawFrames();
  const out = BatchSender.packet(iface);
  const { callerSip, calleeSip } = layout;

  const perDir = Math.round((seconds * 1000) / PTIME_MS);
  const state: CallState[] = [];
  for (let i = 0; i < calls; i++) {
    const sc = new CallScenario(`load-${i}-${basePort}@bench`, { ip: CALLER_IP, sipPort: callerSip }, { ip: CALLEE_IP, sipPort: calleeSip });
    state.push({
      i,
      startMs: calls > 1 ? (ramp * 1000 * i) / calls : 0,
      next: 0,
      phase: 0,
      sc,
      toCallee: rtpTemplate(CALLER_IP, layout.callerRtp(i), CALLEE_IP, layout.calleeRtp(i), 0x10000000 + i),
      toCaller: rtpTemplate(CALLEE_IP, layout.calleeRtp(i), CALLER_IP, layout.callerRtp(i), 0x20000000 + i),
    });
  }

  let rtpPackets = 0;
  let sipMessages = 0;
  let sendErrors = 0;
  const flush = (): void => {
    sendErrors += out.flush().dropped;
  };
  /** Room for one frame of `len` bytes in the batch (flushing a full one first). */
  const room = (len: number): number => {
    let off = out.reserve(len);
    if (off < 0) {
      flush();
      off = out.reserve(len);
    }
    if (off < 0) throw new Error(`frame of ${len} bytes does not fit the batch buffer`);
    return off;
  };
  const sip = (fromCaller: boolean, text: string): void => {
    const body = Buffer.from(text);
    const off = room(ETH + IP4 + UDP + body.length);
    if (fromCaller) udpHeaders(CALLER_IP, callerSip, CALLEE_IP, calleeSip, body.length, out.buffer, off);
    else udpHeaders(CALLEE_IP, calleeSip, CALLER_IP, callerSip, body.length, out.buffer, off);
    body.copy(out.buffer, off + ETH + IP4 + UDP);
    sipMessages++;
  };
  const rtp = (template: Buffer, seq: number, ts: number, frame: number): void => {
    const off = room(template.length + 160);
    const b = out.buffer;
    template.copy(b, off);
    const r = off + ETH + IP4 + UDP;
    b.writeUInt16BE(seq & 0xffff, r + 2);
    b.writeUInt32BE(ts >>> 0, r + 4);
    frames.copy(b, r + 12, frame * 160, frame * 160 + 160);
    rtpPackets++;
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
        sip(true, c.sc.request('INVITE', 'caller', { body: sdp({ ip: CALLER_IP, port: layout.callerRtp(c.i), pts: [0] }), cseq: 1 }));
        sip(false, c.sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: CALLEE_IP, port: layout.calleeRtp(c.i), pts: [0] }) }));
        sip(true, c.sc.request('ACK', 'caller', { toTag: 'callee-tag', cseq: 1, branch: 'z9hG4bK-ack' }));
      }
      // Every packet due by now (packet k is due at start + k·ptime): catches up after a late tick.
      const due = Math.min(perDir, Math.floor((now - c.startMs) / PTIME_MS) + 1);
      for (; c.next < due; c.next++) {
        const k = c.next;
        rtp(c.toCallee, 1000 + c.i * 7 + k, c.i * 1000 + k * 160, (c.i * 13 + k) % nFrames);
        rtp(c.toCaller, 2000 + c.i * 11 + k, c.i * 3000 + k * 160, (c.i * 29 + k + 100) % nFrames);
      }
      if (c.next >= perDir) {
        c.phase = 2;
        active--;
        callsEnded++;
        sip(true, c.sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 2 }));
        sip(false, c.sc.response(200, 'OK', 'callee', 2, 'BYE', { toTag: 'callee-tag' }));
      }
    }
    flush();
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
  out.close();
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
  const k = a.indexOf('--iface');
  const iface = k >= 0 ? a[k + 1] : undefined;
  if (iface === undefined) throw new Error('--iface IF is required (one end of a veth pair in a namespace of our own)');
  const r = await generate(iface, arg(a, 'calls', 100), arg(a, 'seconds', 20), arg(a, 'ramp', 5), arg(a, 'base-port', 40000));
  console.log(JSON.stringify(r));
}
