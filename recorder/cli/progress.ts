/** Progress on stderr, only when a person is watching (stderr is a terminal), at most 4×/s. */
export class Progress {
  private last = 0;
  private readonly enabled = process.stderr.isTTY === true;

  update(label: string, done: number, total: number, packets: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    const pct = total > 0 ? ` ${((100 * done) / total).toFixed(0)}%` : '';
    process.stderr.write(`\r${label}:${pct} ${packets.toLocaleString('en-US')} packets\x1b[K`);
  }

  clear(): void {
    if (this.enabled && this.last > 0) process.stderr.write('\r\x1b[K');
  }
}
