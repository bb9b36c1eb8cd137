/**
 * `agent feed --from-capture F... --to HOST:PORT --key K [--front-end NAME] [--front-end-ip IP]
 * [--speed X]`: a call-event feed sender (recorder/netfeed). It reads the SIP messages of
 * captures of cleartext SIP and streams them to the recorder's feed listener as a Front End
 * would, so the feed format is exercised end to end (tests, demos, support cases).
 *
 * Direction is relative to the Front End: with --front-end-ip, a message to that address was
 * received by it (0), one from it was sent (1); without, every message counts as received.
 * Exit 0 when every message was delivered, 2 for bad arguments, 3 when the recorder is
 * unreachable, refuses the key or closes the connection.
 */
import { hostname } from 'node:os';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { Counters } from '../../recorder/core/counters.js';
import { CaptureFileError } from '../../recorder/capture/file-source.js';
import { FeedDirection } from '../../recorder/netfeed/feed-frame.js';
import { DEFAULT_NETFEED_PORT } from '../../recorder/netfeed/feed-server.js';
import { parseListen } from '../../recorder/ops/listen-address.js';
import { captureSip } from './capture-sip.js';
import { FeedClient, FeedClientError } from './feed-client.js';

interface FeedCliOptions {
  fromCapture: string[];
  to: string;
  key?: string;
  frontEnd: string;
  frontEndIp?: string;
  speed: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `agent feed` with its own arguments (those after "feed"); resolves with the exit code. */
export async function runFeedCli(args: readonly string[]): Promise<number> {
  const errors: string[] = [];
  const program = new Command('agent feed')
    .description('stream the SIP of captures to a recorder\'s call-event feed, as a Front End would')
    .requiredOption('--from-capture <file...>', 'pcap/pcapng files of cleartext SIP')
    .requiredOption('--to <host:port>', `the recorder's feed listener (port ${DEFAULT_NETFEED_PORT} by default there)`)
    .option('--key <key>', 'the shared feed key (or NETFEED_KEY in the environment)')
    .option('--front-end <name>', 'this Front End\'s identity in the feed', hostname())
    .option('--front-end-ip <ip>', 'the Front End\'s address in the capture (gives each message its direction)')
    .option('--speed <x>', 'replay at x times capture speed (0 = as fast as possible)', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`--speed must be a number >= 0, got "${v}"`);
      return n;
    }, 0)
    .exitOverride()
    .configureOutput({ writeErr: (s) => errors.push(s) });
  let o: FeedCliOptions;
  try {
    program.parse(args, { from: 'user' });
    o = program.opts<FeedCliOptions>();
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      process.stderr.write(`agent feed: ${(errors[0] ?? err.message).replace(/^error: /, '').split('\n')[0]}\n`);
      return 2;
    }
    throw err;
  }
  const fail = (msg: string, code: number): number => {
    process.stderr.write(`agent feed: ${msg}\n`);
    return code;
  };
  const key = o.key ?? process.env['NETFEED_KEY'] ?? '';
  if (!key) return fail('give --key K (or NETFEED_KEY): the shared feed key', 2);
  const to = parseListen(o.to);
  if (typeof to === 'string') return fail(`--to ${o.to}: ${to}`, 2);
  const counters = new Counters();
  let client: FeedClient;
  try {
    client = await FeedClient.open({ host: to.host, port: to.port, key, frontEnd: o.frontEnd });
  } catch (err) {
    if (err instanceof FeedClientError) return fail(err.message, 3);
    throw err;
  }
  let first: { capture: number; wall: number } | null = null;
  try {
    for await (const batch of captureSip(o.fromCapture, counters)) {
      for (const m of batch) {
        if (o.speed > 0) {
          const t = m.sec + m.nsec / 1e9;
          first ??= { capture: t, wall: Date.now() };
          const due = first.wall + ((t - first.capture) * 1000) / o.speed;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        const direction = o.frontEndIp !== undefined && m.srcIp === o.frontEndIp ? FeedDirection.Out : FeedDirection.In;
        await client.sendSip({ sec: m.sec, nsec: m.nsec, direction, transport: m.transport, srcIp: m.srcIp, srcPort: m.srcPort, dstIp: m.dstIp, dstPort: m.dstPort }, m.message);
      }
    }
  } catch (err) {
    await client.close();
    if (err instanceof CaptureFileError) return fail(err.message, 2);
    if (err instanceof FeedClientError) return fail(err.message, 3);
    throw err;
  }
  await client.close();
  process.stderr.write(`agent feed: ${client.sent} SIP message(s) sent as "${o.frontEnd}" to ${o.to}\n`);
  return 0;
}
