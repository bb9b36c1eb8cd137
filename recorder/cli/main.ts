import { Command, CommanderError } from 'commander';
import { fail, UsageError } from './errors.js';
import { registerCallsCommand } from './calls-command.js';
import { inspectCommand, inspectLive } from './inspect-command.js';
import { replayCommand, type ReplayOptions } from './replay-command.js';
import { runCommand, type RunOptions } from './run-command.js';

const program = new Command('recorder')
  .description('Passive VoIP call recorder: captures, signaling, recordings')
  .version('0.1.0')
  .showHelpAfterError(false)
  .exitOverride();

const positiveInt = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got "${v}"`);
  return n;
};

interface InspectCliOptions {
  json?: boolean;
  iface?: string;
  filter?: string;
  snaplen?: number;
  promisc: boolean;
  duration?: number;
  count?: number;
}

program
  .command('inspect')
  .description('what is in a capture: layers, malformed counts, UDP and TCP conversations')
  .argument('[capture...]', 'pcap or pcapng files')
  .option('--json', 'one JSON document on stdout')
  .option('--iface <name>', 'inspect live traffic on this interface instead of files')
  .option('--filter <bpf>', 'live: BPF capture filter (pcap-filter(7))')
  .option('--snaplen <bytes>', 'live: bytes kept per frame', positiveInt('--snaplen'))
  .option('--no-promisc', 'live: do not put the interface in promiscuous mode')
  .option('--duration <seconds>', 'live: stop after this many seconds', positiveInt('--duration'))
  .option('--count <frames>', 'live: stop after this many frames', positiveInt('--count'))
  .action(async (files: string[], opts: InspectCliOptions) => {
    if (opts.iface !== undefined) {
      if (files.length) throw new UsageError('give capture files or --iface, not both');
      await inspectLive({ ...opts, iface: opts.iface });
    } else {
      if (!files.length) throw new UsageError('inspect: give one or more capture files, or --iface');
      await inspectCommand(files, opts);
    }
  });

program
  .command('replay')
  .description('record the calls found in captures, as the live recorder would')
  .argument('<capture...>', 'pcap or pcapng files')
  .option('--config <file>', 'JSON config (users, rules, storage)')
  .option('--out <dir>', 'write spool, recordings and index under this directory')
  .option('--format <format>', 'opus | mp3 | wav')
  .option('--channels <mode>', 'mono | dual (one party per channel)')
  .option('--record-unattached', 'also record RTP that matches no call')
  .option('--pt <pt=codec/rate[/ch]>', 'payload type mapping, e.g. 96=opus/48000/2 (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--json', 'one JSON document on stdout')
  .action(async (files: string[], opts: ReplayOptions) => {
    await replayCommand(files, opts);
  });

program
  .command('run')
  .description('the appliance: live capture, calls recorded as they end, /metrics and /healthz')
  .option('--config <file>', 'JSON config (interfaces, users, storage, metrics)')
  .option('--iface <name>', 'capture interface (repeatable; replaces inputs.interfaces)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--filter <bpf>', 'BPF filter for --iface')
  .option('--out <dir>', 'data directory (spool, recordings, index)')
  .option('--format <format>', 'opus | mp3 | wav (replaces recording.format)')
  .option('--metrics <host:port|off>', 'metrics and health listener')
  .option('--hep <[udp:|tcp:]host:port>', 'HEP listener (UDP and TCP unless prefixed; replaces inputs.hep.listen)')
  .option('--siprec <host:port>', 'SIPREC recording server on UDP and TCP (replaces siprec.listen)')
  .option('--audio-ports <start-end>', 'SIPREC media port range, e.g. 20000-29999 (replaces siprec.audioPorts)')
  .option('--netfeed <host:port>', 'Lync/Skype call-event feed listener, e.g. 0.0.0.0:8008 (replaces netfeed.listen)')
  .option('--netfeed-key <key>', 'shared key of the Front Ends\' feed senders (replaces netfeed.key; or NETFEED_KEY)')
  .action(async (opts: RunOptions) => {
    await runCommand(opts);
  });

registerCallsCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; they exit 0.
    process.exit(err.exitCode);
  }
  if (err instanceof UsageError) fail(`recorder: ${err.message}`);
  throw err;
}
