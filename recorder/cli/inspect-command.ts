import { CaptureFileError, openCaptureFile } from '../capture/file-source.js';
import { LiveCapture, LiveCaptureError } from '../capture/live-source.js';
import { formatEndpoint } from '../core/address.js';
import type { Conversation } from '../inspect/conversations.js';
import { Inspector, type InspectReport } from '../inspect/inspect.js';
import { fail } from './errors.js';
import { Progress } from './progress.js';

export interface InspectOptions {
  json?: boolean;
}

export interface LiveInspectOptions extends InspectOptions {
  iface: string;
  filter?: string;
  snaplen?: number;
  promisc: boolean;
  /** Stop after this many seconds (default: until SIGINT/SIGTERM). */
  duration?: number;
  /** Stop after this many frames. */
  count?: number;
}

/**
 * `recorder inspect --iface IF`: the same report on live traffic, so a support engineer can see
 * what the SPAN port really carries (and whether the kernel drops) before configuring recording.
 */
export async function inspectLive(opts: LiveInspectOptions): Promise<void> {
  const inspector = new Inspector();
  const progress = new Progress();
  let seen = 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let cap: LiveCapture;
  try {
    cap = LiveCapture.open(
      { iface: opts.iface, filter: opts.filter, snaplen: opts.snaplen, promisc: opts.promisc },
      (frames) => {
        const room = opts.count === undefined ? frames.length : Math.min(frames.length, opts.count - seen);
        inspector.push(room === frames.length ? frames : frames.slice(0, room));
        seen += room;
        progress.update(opts.iface, 0, 0, seen);
        if (opts.count !== undefined && seen >= opts.count) stop();
      },
      (err) => {
        process.stderr.write(`recorder: ${err.message}\n`);
        stop();
      },
    );
  } catch (err) {
    if (err instanceof LiveCaptureError) fail(`recorder: ${opts.iface}: ${err.message}`);
    throw err;
  }
  const timer = opts.duration !== undefined ? setTimeout(stop, opts.duration * 1000) : undefined;
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await stopped;
  if (timer) clearTimeout(timer);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  const stats = cap.stats();
  cap.close();
  progress.clear();
  // Kernel figures from pcap_stats: what never reached us is as important as what did.
  inspector.counters.inc('capture.received', stats.received);
  if (stats.dropped) inspector.counters.inc('capture.kernel_dropped', stats.dropped);
  if (stats.ifDropped) inspector.counters.inc('capture.if_dropped', stats.ifDropped);
  const report = inspector.report([`live:${opts.iface}`]);
  report.capture.malformed['capture.kernel_dropped'] = stats.dropped;
  report.capture.malformed['capture.if_dropped'] = stats.ifDropped;
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
}

/** `recorder inspect <capture>...`: what is in a capture, for support engineers. */
export async function inspectCommand(files: string[], opts: InspectOptions): Promise<void> {
  const inspector = new Inspector();
  const progress = new Progress();
  for (const path of files) {
    let cap;
    try {
      cap = await openCaptureFile(path, inspector.counters);
    } catch (err) {
      if (err instanceof CaptureFileError) fail(`recorder: ${err.message}`);
      throw err;
    }
    try {
      for await (const batch of cap.batches()) {
        inspector.push(batch);
        progress.update(path, cap.bytesRead, cap.size, inspector.counters.get('capture.packets'));
      }
    } finally {
      await cap.close();
    }
  }
  progress.clear();
  const report = inspector.report(files);
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
}

function formatReport(r: InspectReport): string {
  const out: string[] = [];
  out.push(`Capture: ${r.capture.files.join(', ')}`);
  out.push(`  ${r.capture.packets} packets, ${r.capture.bytes} bytes`);
  out.push('Layers (packets):');
  for (const [k, v] of Object.entries(r.layers)) if (v > 0) out.push(`  ${k.padEnd(14)} ${v}`);
  const bad = Object.entries(r.capture.malformed);
  out.push(bad.length ? 'Malformed / unusual (by stage.reason):' : 'Malformed: none');
  for (const [k, v] of bad) out.push(`  ${k.padEnd(28)} ${v}`);
  const s = r.tcpStreams;
  out.push(`TCP streams: ${s.connections} connections, ${s.bytes} bytes reassembled, ${s.gaps} gaps (${s.gapBytes} bytes missing)`);
  for (const proto of ['udp', 'tcp'] as const) {
    const list = r.conversations[proto];
    out.push(`${proto.toUpperCase()} conversations: ${list.length}`);
    if (list.length === 0) continue;
    out.push(`  ${'A'.padEnd(45)} ${'B'.padEnd(45)} ${'A→B'.padStart(8)} ${'B→A'.padStart(8)} ${'bytes'.padStart(11)}  kind`);
    for (const c of list) out.push(formatConversation(c));
  }
  if (r.conversationsOverflow) out.push(`(${r.conversationsOverflow} packets in conversations not listed: table full)`);
  return `${out.join('\n')}\n`;
}

function formatConversation(c: Conversation): string {
  const a = formatEndpoint(c.a.addr, c.a.port);
  const b = formatEndpoint(c.b.addr, c.b.port);
  return `  ${a.padEnd(45)} ${b.padEnd(45)} ${String(c.packetsAtoB).padStart(8)} ${String(c.packetsBtoA).padStart(8)} ${String(c.bytesAtoB + c.bytesBtoA).padStart(11)}  ${c.kind}`;
}
