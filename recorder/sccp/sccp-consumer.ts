/**
 * The SCCP side of the TCP stream reassembly: a TcpStreamConsumer that frames both directions of
 * each Skinny connection (stream-framer.ts) and hands every message to the station tracker.
 * The station is the end of the connection that is not on a Skinny port (CallManager listens on
 * TCP 2000, phones connect from ephemeral ports).
 */
import type { SignalTime } from '../calls/call-registry.js';
import type { Counters } from '../core/counters.js';
import type { TcpConnection, TcpStreamConsumer } from '../tcp/stream-reassembler.js';
import { SkinnyStreamFramer } from './stream-framer.js';
import type { Station, StationTracker } from './station-tracker.js';

export const DEFAULT_SCCP_PORTS: readonly number[] = [2000];

class SccpConnection {
  readonly framers: readonly [SkinnyStreamFramer, SkinnyStreamFramer];
  now = 0;

  constructor(
    readonly station: Station,
    tracker: StationTracker,
    counters: Counters,
    signalTime: (now: number) => SignalTime,
  ) {
    const framer = (): SkinnyStreamFramer => new SkinnyStreamFramer((b, o, l) => tracker.onMessage(station, b, o, l, signalTime(this.now)), counters);
    this.framers = [framer(), framer()];
  }
}

/** Is this connection Skinny, by its ports? */
export const isSccpConnection = (c: TcpConnection, ports: ReadonlySet<number>): boolean => ports.has(c.serverPort) || ports.has(c.clientPort);

/**
 * A consumer for the connections on `ports` (the caller routes only those here).
 * `signalTime(now)` gives the capture stamp of the bytes being delivered (the segment's frame).
 */
export function sccpTcpConsumer(tracker: StationTracker, counters: Counters, ports: ReadonlySet<number>, signalTime: (now: number) => SignalTime): TcpStreamConsumer {
  const stateOf = (c: TcpConnection, now: number): SccpConnection => {
    if (c.user instanceof SccpConnection) return c.user;
    // CallManager is the end on the Skinny port; when both or neither are, the server side of the
    // reassembler's guess (the higher port is the client) stands.
    const stationIsServer = ports.has(c.clientPort) && !ports.has(c.serverPort);
    const station = stationIsServer ? tracker.station(c.serverAddr, c.serverPort, now) : tracker.station(c.clientAddr, c.clientPort, now);
    const st = new SccpConnection(station, tracker, counters, signalTime);
    c.user = st;
    return st;
  };
  return {
    onData(c, dir, buf, off, len, now) {
      const st = stateOf(c, now);
      st.now = now;
      st.framers[dir].push(buf, off, len);
    },
    onGap(c, dir, _missing, now) {
      const st = stateOf(c, now);
      st.now = now;
      st.framers[dir].gap();
    },
    onClose(c, reason, now) {
      if (!(c.user instanceof SccpConnection)) return;
      for (const f of c.user.framers) if (f.pendingMessage) counters.inc('sccp.tcp_unfinished');
      // A station that disconnects (FIN/RST) is gone; at the end of a capture or on an idle
      // timeout its calls stay with the registry's own timeouts and end-of-input handling.
      if (reason === 'fin' || reason === 'rst') tracker.closeStation(c.user.station, now);
      c.user = undefined;
    },
  };
}
