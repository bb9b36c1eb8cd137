import { Command, CommanderError } from 'commander';
import { fail, UsageError } from './errors.js';
import { inspectCommand } from './inspect-command.js';

const program = new Command('recorder')
  .description('Passive VoIP call recorder: captures, signaling, recordings')
  .version('0.1.0')
  .showHelpAfterError(false)
  .exitOverride();

program
  .command('inspect')
  .description('what is in a capture: layers, malformed counts, UDP and TCP conversations')
  .argument('<capture...>', 'pcap or pcapng files')
  .option('--json', 'one JSON document on stdout')
  .action(async (files: string[], opts: { json?: boolean }) => {
    await inspectCommand(files, opts);
  });

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
