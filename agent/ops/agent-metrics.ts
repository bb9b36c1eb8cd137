/**
 * The agent's `/metrics` (Prometheus, prom-client on a registry of our own) and its one-line status.
 * Nothing here runs per packet: values are read from the forwarder's and destinations' plain
 * counters when scraped or printed.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Counters } from '../../recorder/core/counters.js';
import type { ForwarderStats } from '../forwarder.js';
import type { Destination, DestinationStats } from '../output/destination.js';

export interface AgentTotals {
  /** Frames read from the capture. */
  seen(): number;
  stats: ForwarderStats;
  counters: Counters;
  destinations: readonly Destination[];
  /** Kernel drops of a live capture (pcap_stats), 0 for files. */
  kernelDrops(): number;
}

/** Counters that record what happened rather than a packet dropped. */
const INFO = new Set(['turn.bindings', 'turn.allocations', 'turn.bind_requests', 'turn.inferred_allocations', 'turn.allocation_expired', 'capture.packets']);

export function dropReasons(counters: Counters): [string, number][] {
  return counters.entries().filter(([k]) => !INFO.has(k));
}

export function statusLine(t: AgentTotals): string {
  const s = t.stats;
  const drops = dropReasons(t.counters)
    .map(([k, n]) => `${k}=${n}`)
    .join(',');
  const dests = t.destinations.map((d) => {
    const x: DestinationStats = d.stats;
    return `${d.spec.name} ${d.up ? 'up' : 'down'} sent=${x.sent} acked=${x.acked} queued=${x.queued} overflow=${x.overflow} reconnects=${x.reconnects}`;
  });
  return `agent: seen=${t.seen()} forwarded=${s.forwarded} (sip=${s.sip} rtp=${s.rtp} rtcp=${s.rtcp}) unwrapped=${s.unwrapped} unresolved=${s.unresolved} kernel_drops=${t.kernelDrops()} dropped{${drops}} | ${dests.join(' | ')}`;
}

export function agentRegistry(t: AgentTotals): Registry {
  const registry = new Registry();
  const registers = [registry];
  const simple = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect(this: Counter) {
        this.reset();
        this.inc(read());
      },
    });
  };
  simple('agent_packets_seen_total', 'Frames captured or read', () => t.seen());
  simple('agent_unwrapped_total', 'Packets taken out of TURN (ChannelData, indications, MS-TURN)', () => t.stats.unwrapped);
  simple('agent_unresolved_total', 'Unwrapped packets sent with a TURN flag (binding or allocation not seen)', () => t.stats.unresolved);
  simple('agent_capture_kernel_drops_total', 'Frames the kernel dropped (capture buffer full)', () => t.kernelDrops());
  new Counter({
    name: 'agent_forwarded_total',
    help: 'Packets forwarded as HEP, by protocol',
    labelNames: ['proto'],
    registers,
    collect(this: Counter<'proto'>) {
      this.reset();
      this.inc({ proto: 'sip' }, t.stats.sip);
      this.inc({ proto: 'rtp' }, t.stats.rtp);
      this.inc({ proto: 'rtcp' }, t.stats.rtcp);
    },
  });
  new Counter({
    name: 'agent_dropped_total',
    help: 'Packets not forwarded (not of interest, malformed, filtered), by stage.reason',
    labelNames: ['reason'],
    registers,
    collect(this: Counter<'reason'>) {
      this.reset();
      for (const [reason, n] of dropReasons(t.counters)) this.inc({ reason }, n);
    },
  });
  const perDest = (name: string, help: string, field: keyof DestinationStats, gauge = false): void => {
    const collect = function (this: Counter<'destination'> | Gauge<'destination'>): void {
      this.reset();
      for (const d of t.destinations) {
        if (this instanceof Gauge) this.set({ destination: d.spec.name }, d.stats[field]);
        else this.inc({ destination: d.spec.name }, d.stats[field]);
      }
    };
    if (gauge) new Gauge({ name, help, labelNames: ['destination'], registers, collect });
    else new Counter({ name, help, labelNames: ['destination'], registers, collect });
  };
  perDest('agent_destination_sent_total', 'HEP packets written to the destination', 'sent');
  perDest('agent_destination_acked_total', 'HEP packets the recorder acknowledged', 'acked');
  perDest('agent_destination_overflow_total', 'HEP packets dropped because the buffer was full', 'overflow');
  perDest('agent_destination_reconnects_total', 'TCP reconnections', 'reconnects');
  perDest('agent_destination_errors_total', 'Socket errors', 'errors');
  perDest('agent_destination_queued', 'HEP packets buffered (unsent or unacknowledged)', 'queued', true);
  perDest('agent_destination_queued_bytes', 'Bytes buffered in memory and on disk', 'queuedBytes', true);
  new Gauge({
    name: 'agent_destination_up',
    help: '1 while the destination can take packets',
    labelNames: ['destination'],
    registers,
    collect(this: Gauge<'destination'>) {
      for (const d of t.destinations) this.set({ destination: d.spec.name }, d.up ? 1 : 0);
    },
  });
  collectDefaultMetrics({ register: registry, prefix: 'agent_' });
  return registry;
}
