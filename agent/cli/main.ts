import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { Agent, AgentError } from '../agent.js';
import { AgentConfigError, defaultAgentConfig, loadAgentConfig, type AgentConfig } from '../config.js';
import { parseDestination } from '../output/destination.js';
import { parseListen } from '../../recorder/ops/listen-address.js';

/**
 * `agent --iface IF | --read CAPTURE... --to [udp:|tcp:]HOST:PORT [--to ...] [--config F]`: captures
 * on this host, unwraps TURN, forwards SIP/RTP/RTCP as HEPv3 (DESIGN.md "Forwarding"). Bad arguments
 * or config end with one line on stderr and exit 2; `--read` exits 3 when buffered packets could
 * not be delivered before the drain timeout.
 */
interface CliOptions {
  iface?: string;
  read: string[];
  to: string[];
  config?: string;
  metrics?: string;
  speed: number;
  drain: number;
  status?: number;
}

const fail = (msg: string, code = 2): never => {
  process.stderr.write(`agent: ${msg.split('\n')[0]}\n`);
  process.exit(code);
};

const number = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number >= ${min}, got "${v}"`);
  return n;
};

function configFrom(o: CliOptions): AgentConfig {
  let config: AgentConfig;
  try {
    config = o.config ? loadAgentConfig(o.config) : defaultAgentConfig();
  } catch (err) {
    if (err instanceof AgentConfigError) return fail(err.message);
    throw err;
  }
  if (o.to.length) {
    config.destinations = o.to.map((to) => {
      const d = parseDestination(to);
      if (typeof d === 'string') return fail(`--to ${to}: ${d}`);
      return { to, ...d, ips: [] };
    });
  }
  if (o.metrics !== undefined) {
    if (o.metrics === 'off') config.metrics = null;
    else {
      const r = parseListen(o.metrics);
      if (typeof r === 'string') fail(`--metrics ${o.metrics}: ${r}`);
      config.metrics = { listen: o.metrics };
    }
  }
  if (o.status !== undefined) config.statusIntervalSec = o.status;
  if (o.iface) config.capture.iface = o.iface;
  if (config.destinations.length === 0) fail('no destination: give --to HOST:PORT or "destinations" in the config');
  return config;
}

const program = new Command('agent')
  .description('Forwarding agent: captures locally, unwraps TURN, forwards SIP/RTP/RTCP as HEPv3')
  .version('0.1.0')
  .option('--iface <name>', 'live capture interface (libpcap; Npcap on Windows)')
  .option('--read <capture...>', 'replay pcap/pcapng files instead of capturing', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--to <[udp:|tcp:]host:port>', 'recorder to forward to (repeatable; UDP by default)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--config <file>', 'JSON config (filter, destinations, fan-out/failover, buffer, auth key)')
  .option('--metrics <host:port|off>', 'Prometheus /metrics listener')
  .option('--speed <x>', '--read: replay at x times capture speed (0 = as fast as possible)', number('--speed', 0), 0)
  .option('--drain <seconds>', '--read: wait this long at the end for buffered packets', number('--drain', 0), 30)
  .option('--status <seconds>', 'one-line status every N seconds (0 = off)', number('--status', 0))
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `agent: ${s.slice(7)}` : s) })
  .action(async (o: CliOptions) => {
    const live = o.iface !== undefined;
    const files = o.read;
    if (live === files.length > 0) fail(live ? 'give --iface or --read, not both' : 'give --iface IF or --read CAPTURE');
    const config = configFrom(o);
    if (!live && !o.config && o.status === undefined) config.statusIntervalSec = 0;
    const agent = new Agent(config);
    try {
      await agent.startOps();
      if (!live) {
        const delivered = await agent.readFiles(files, o.speed, o.drain);
        const ok = await agent.stop(0);
        if (!delivered || !ok) fail(`not everything was delivered within ${o.drain} s`, 3);
        process.exit(0);
      }
      agent.startLive(config.capture.iface);
      const idle = agent.idleSweep();
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      clearInterval(idle);
      await agent.stop(5);
      process.exit(0);
    } catch (err) {
      if (err instanceof AgentError) fail(err.message);
      throw err;
    }
  });

// `agent feed …`: the call-event feed sender (agent/feed/main.ts, issue 7), dispatched before the agent's own options.
if (process.argv[2] === 'feed') process.exit(await (await import('../feed/main.js')).runFeedCli(process.argv.slice(3)));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  throw err;
}
