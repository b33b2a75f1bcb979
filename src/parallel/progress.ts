// The progress line DataParallel.fit draws on rank 0: a bar redrawn in place on a terminal
// (at most 10 times a second), or one line per tenth of the epoch when output goes to a
// file or a pipe (CI logs), so that a log stays short.

function formatLogs(logs: Record<string, number>): string {
  return Object.entries(logs).map(([k, v]) => `${k} ${Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(4)}`).join(' · ');
}

export class ProgressBar {
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number | null,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {
    this.tty = out.isTTY === true;
  }

  update(done: number, logs: Record<string, number>, samplesPerSecond: number): void {
    const now = performance.now();
    if (this.tty) {
      if (now - this.lastDraw < 100 && done !== this.total) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line(done, logs, samplesPerSecond)}\x1b[K`);
      return;
    }
    const tenth = this.total ? Math.floor((10 * done) / this.total) : Math.floor(done / 100);
    if (tenth === this.lastTenth || done === this.total) return;
    this.lastTenth = tenth;
    this.out.write(`${this.line(done, logs, samplesPerSecond)}\n`);
  }

  /** Ends the epoch's line with its summary. */
  end(summary: string): void {
    this.out.write(`${this.tty ? '\r' : ''}${this.label} ${summary}${this.tty ? '\x1b[K' : ''}\n`);
  }

  private line(done: number, logs: Record<string, number>, samplesPerSecond: number): string {
    const width = 24;
    const bar = this.total
      ? `[${'='.repeat(Math.floor((width * done) / this.total)).padEnd(width, '.')}] ${done}/${this.total}`
      : `step ${done}`;
    return `${this.label} ${bar} · ${formatLogs(logs)} · ${samplesPerSecond.toFixed(0)} samples/s`;
  }
}

export { formatLogs };
