/** An error whose message is fit to show the user as is (one line, no stack). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Print one clear line and exit non-zero: the CLI's only way out for bad input or arguments. */
export function fail(message: string, code = 2): never {
  process.stderr.write(`${message.split('\n')[0]}\n`);
  process.exit(code);
}
