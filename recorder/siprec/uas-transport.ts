/**
 * The SRS's SIP transport (RFC 3261 §18): one UDP socket and one TCP listener on the configured
 * address. Requests are parsed with the recorder's tolerant SIP parser and handed up with a
 * ResponseRoute that sends answers where §18.2.2 says:
 *
 *   - TCP: on the connection the request came in on;
 *   - UDP: to the request's source address (the `received` rule), at the source port when the
 *     top Via asks for `rport` (RFC 3581), else at the Via's sent-by port (5060 by default).
 *
 * Bad input never closes the server: an unparsable datagram is counted by the parser and
 * dropped; an unanswerable TCP stream (header block over the limit) closes that connection only.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { Counters } from '../core/counters.js';
import { parseNameAddr } from '../sip/name-addr.js';
import { parseSipMessage, type SipMessage } from '../sip/message.js';
import type { ResponseRoute } from './server-transactions.js';
import { sentBy } from './server-transactions.js';
import { buildResponse, REASON } from './sip-response.js';
import { UasStreamFramer } from './uas-stream-framer.js';

export type SipTransportName = 'UDP' | 'TCP';

export interface Inbound {
  msg: SipMessage;
  route: ResponseRoute;
  transport: SipTransportName;
  srcAddress: string;
  srcPort: number;
  /** Our address the message arrived at (the local side of the socket). */
  localAddress: string;
  localPort: number;
  /** Receive time, epoch ms. */
  timeMs: number;
  /** The TCP connection (to send our own requests on), null for UDP. */
  connection: TcpSocket | null;
}

export interface UasTransportOptions {
  host: string;
  port: number;
  udp: boolean;
  tcp: boolean;
  /** Largest message accepted over TCP (UDP is bounded by the datagram). */
  maxMessageBytes: number;
  maxConnections: number;
}

export class UasTransport {
  private udp: Socket | null = null;
  private tcp: Server | null = null;
  private readonly conns = new Set<TcpSocket>();
  udpPort = 0;
  tcpPort = 0;

  constructor(
    private readonly opts: UasTransportOptions,
    private readonly onMessage: (m: Inbound) => void,
    private readonly counters: Counters,
    private readonly now: () => number,
  ) {}

  get connections(): number {
    return this.conns.size;
  }

  async start(): Promise<void> {
    const family = this.opts.host.includes(':') ? 'udp6' : 'udp4';
    if (this.opts.udp) {
      const s = createSocket({ type: family });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(this.opts.port, this.opts.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      s.on('error', () => this.counters.inc('siprec.udp_socket_error'));
      s.on('message', (msg, rinfo) => this.udpMessage(msg, rinfo.address, rinfo.port));
      try {
        s.setRecvBufferSize(4 * 1024 * 1024);
      } catch {
        this.counters.inc('siprec.sip_rcvbuf_capped');
      }
      this.udp = s;
      this.udpPort = s.address().port;
    }
    if (this.opts.tcp) {
      const server = createServer((c) => this.accept(c));
      // The TCP listener takes the UDP port when port 0 picked one, so both share a number.
      const port = this.opts.port === 0 && this.udpPort ? this.udpPort : this.opts.port;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.opts.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', () => this.counters.inc('siprec.tcp_server_error'));
      this.tcp = server;
      const a = server.address();
      this.tcpPort = typeof a === 'object' && a ? a.port : 0;
    }
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    if (this.udp) {
      const u = this.udp;
      this.udp = null;
      await new Promise<void>((resolve) => u.close(() => resolve()));
    }
    if (this.tcp) {
      const t = this.tcp;
      this.tcp = null;
      await new Promise<void>((resolve) => t.close(() => resolve()));
    }
  }

  /** Send a datagram from the SIP socket (our own requests over UDP). */
  sendUdp(data: Buffer, address: string, port: number): void {
    this.udp?.send(data, port, address, (err) => {
      if (err) this.counters.inc('siprec.udp_send_error');
    });
  }

  private udpMessage(buf: Buffer, address: string, port: number): void {
    const timeMs = this.now();
    const msg = parseSipMessage(buf, 0, buf.length, this.counters);
    if (msg === null) {
      this.counters.inc('siprec.bad_message');
      return;
    }
    const local = this.udp?.address();
    const route = this.udpRoute(msg, address, port);
    this.onMessage({ msg, route, transport: 'UDP', srcAddress: address, srcPort: port, localAddress: local?.address ?? this.opts.host, localPort: local?.port ?? this.udpPort, timeMs, connection: null });
  }

  /** §18.2.2 with RFC 3581 rport. */
  private udpRoute(msg: SipMessage, address: string, port: number): ResponseRoute {
    const via = msg.headerAll('via')[0] ?? '';
    let to = port;
    if (!/;\s*rport\b/i.test(via)) {
      const sb = sentBy(via);
      const m = /:(\d{1,5})$/.exec(sb.startsWith('[') ? sb.slice(sb.indexOf(']')) : sb);
      to = m ? Number(m[1]) : 5060;
    }
    return { reliable: false, send: (data: Buffer) => this.sendUdp(data, address, to) };
  }

  private accept(c: TcpSocket): void {
    if (this.conns.size >= this.opts.maxConnections) {
      this.counters.inc('siprec.tcp_connections_full');
      c.destroy();
      return;
    }
    this.conns.add(c);
    c.setNoDelay(true);
    const srcAddress = c.remoteAddress ?? '';
    const srcPort = c.remotePort ?? 0;
    const route: ResponseRoute = {
      reliable: true,
      send: (data: Buffer) => {
        if (!c.destroyed) c.write(data);
      },
    };
    const framer = new UasStreamFramer(
      {
        onMessage: (buf) => {
          const msg = parseSipMessage(buf, 0, buf.length, this.counters, this.opts.maxMessageBytes);
          if (msg === null) {
            this.counters.inc('siprec.bad_message');
            return;
          }
          this.onMessage({
            msg,
            route,
            transport: 'TCP',
            srcAddress,
            srcPort,
            localAddress: c.localAddress ?? this.opts.host,
            localPort: c.localPort ?? this.tcpPort,
            timeMs: this.now(),
            connection: c,
          });
        },
        onTooLarge: (head) => {
          // Answer from the headers alone (§21.4.11); the body streams past unbuffered.
          this.counters.inc('siprec.too_large');
          const msg = parseSipMessage(head, 0, head.length, this.counters, head.length);
          if (msg?.isRequest && msg.method !== 'ACK') route.send(buildResponse(msg, 413, REASON[413]!, { toTag: 'srs-too-large' }));
        },
        onPing: () => route.send(Buffer.from('\r\n')),
        onFatal: (reason) => {
          this.counters.inc(`siprec.tcp_${reason}`);
          c.destroy();
        },
      },
      this.opts.maxMessageBytes,
    );
    c.on('data', (chunk: Buffer) => framer.push(chunk));
    c.on('error', () => this.counters.inc('siprec.tcp_connection_error'));
    c.on('close', () => this.conns.delete(c));
  }
}

/** The remote target of a dialog: the Contact URI of the request that created it (§12.1.1). */
export function contactUri(msg: SipMessage): string {
  const c = msg.headerAll('contact')[0];
  return c ? parseNameAddr(c).uri : '';
}
