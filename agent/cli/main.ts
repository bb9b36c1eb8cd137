import { Command, CommanderError } from 'commander';

/**
 * The forwarding agent (issue: TURN/STUN unwrap and HEPv3 forwarding). Its options are fixed by
 * DESIGN.md; forwarding itself is not built yet, so running it says so and exits non-zero
 * rather than pretending to forward.
 */
const program = new Command('agent')
  .description('Forwarding agent: captures locally, unwraps TURN, forwards SIP/RTP/RTCP as HEPv3')
  .version('0.1.0')
  .option('--iface <name>', 'live capture interface')
  .option('--read <file>', 'replay a capture file')
  .option('--to <host:port>', 'recorder to forward to (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--config <file>', 'JSON config')
  .exitOverride()
  .action(() => {
    process.stderr.write('agent: forwarding is not implemented yet (see the agent issue); nothing was sent\n');
    process.exit(3);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  throw err;
}
