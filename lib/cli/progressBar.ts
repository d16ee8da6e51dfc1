import type { Writable } from 'node:stream';

import type { ReadProgress } from './logEnd.js';

const REDRAW_EVERY_MS = 100;
const BAR_WIDTH = 24;
const CLEAR_LINE = '\r\x1b[K';

/**
 * The catch-up progress bar on a terminal's stderr: records read, read rate and the lag to the
 * log's end, redrawn in place every 100 ms until the scan has caught up, then erased.
 *
 * ```
 * catch-up [##########..............]  41,920 read  83,410/s  lag 58,080 (12.5s)
 * ```
 */
export class ProgressBar {
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt: number;
  private drawn = false;
  private stopped = false;

  constructor(
    private readonly stderr: Writable,
    private readonly progress: ReadProgress,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
    this.timer = setInterval(() => this.draw(), REDRAW_EVERY_MS);
    this.timer.unref();
    this.draw();
  }

  /** Erases the bar (before a line goes to the same terminal); the next redraw brings it back. */
  clear(): void {
    if (!this.drawn) return;
    this.stderr.write(CLEAR_LINE);
    this.drawn = false;
  }

  /** Draws the final state, erases it and stops redrawing. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.draw();
    this.stopped = true;
    clearInterval(this.timer);
    this.clear();
  }

  private draw(): void {
    if (this.stopped) return;
    this.stderr.write(CLEAR_LINE + renderProgress(this.progress, this.now() - this.startedAt));
    this.drawn = true;
  }
}

/** One frame of the bar (exported for tests). */
export function renderProgress(progress: ReadProgress, elapsedMs: number): string {
  const { read } = progress;
  const lag = progress.lag;
  const total = lag === undefined ? undefined : read + Number(lag);
  // nothing read and the lag unknown (the first frame): nothing done yet, not everything
  const done = total === undefined ? (read === 0 ? 0 : 1) : total === 0 ? 1 : read / total;
  const filled = Math.max(0, Math.min(BAR_WIDTH, Math.round(done * BAR_WIDTH)));
  const rate = elapsedMs > 0 ? Math.round((read * 1000) / elapsedMs) : 0;
  const bar = '#'.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
  const lagText = lag === undefined ? '?' : group(lag);
  const seconds = progress.lagSeconds;
  const lagTime = seconds === undefined ? '' : ` (${seconds.toFixed(1)}s)`;
  return `catch-up [${bar}]  ${group(read)} read  ${group(rate)}/s  lag ${lagText}${lagTime}`;
}

function group(n: number | bigint): string {
  return n.toLocaleString('en-US');
}
