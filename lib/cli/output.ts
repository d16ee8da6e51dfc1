import type { Writable } from 'node:stream';

/**
 * Writes lines to a stream, waiting for `drain` when the stream's buffer is full, so a scan
 * piped into a slow consumer holds reading instead of filling memory. A stream that fails (a
 * closed pipe: `rxwal scan … | head`) ends the output: `closed` turns true and writes are dropped.
 */
export class LineWriter {
  private failed = false;
  private waiting: (() => void)[] = [];

  constructor(
    private readonly stream: Writable,
    /** Called before each write, e.g. to clear a progress bar drawn on the same terminal. */
    private readonly beforeWrite: () => void = () => undefined,
  ) {
    const fail = (): void => {
      this.failed = true;
      this.wake();
    };
    stream.on('error', fail);
    stream.on('close', fail);
  }

  /** True once the stream failed or closed: stop producing output. */
  get closed(): boolean {
    return this.failed;
  }

  /** Writes `line` and a newline; resolves when the stream can take more. */
  async line(line: string): Promise<void> {
    if (this.failed) return;
    this.beforeWrite();
    if (this.stream.write(`${line}\n`)) return;
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.stream.once('drain', () => this.wake());
    });
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
