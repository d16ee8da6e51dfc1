import type { MessageType } from '../message/message.js';

/** Where a scanner reads from: the durable log (`catchup`) or the write-ahead buffer (`tailing`). */
export type ScannerModel = 'catchup' | 'tailing';

/** How a transaction ended in the txn buffer. */
export type TxnOutcome = 'autocommit' | 'committed' | 'rolledBack' | 'expired' | 'error';

/** Identifies a scanner to a metrics sink. */
export interface ScannerInfo {
  /** The scanner's name (`ScanOptions.name`). */
  readonly name: string;
  /** The pchannel it reads. */
  readonly channel: string;
  /** The model the scanner is in when the event happens (set on close). */
  readonly model?: ScannerModel | undefined;
}

/**
 * The events a scanner reports (reference § 7.3), named for TypeScript. Byte counters are
 * reported as deltas, so one sink can serve many scanners of a channel.
 *
 * @example
 * ```ts
 * const metrics = createInMemoryMetrics();
 * scanWal(wal, { metrics }).subscribe();
 * metrics.snapshot().passedMessages.Insert;
 * ```
 */
export interface ScannerMetrics {
  /** A scanner subscribed. */
  scannerOpened(scanner: ScannerInfo): void;
  /** A scanner was unsubscribed or ended; `scanner.model` is the model it was in. */
  scannerClosed(scanner: ScannerInfo): void;
  /** A scanner started reading in `to` (from `from`, or first). */
  switchModel(from: ScannerModel | undefined, to: ScannerModel): void;
  /** Every message that passed the deliver filters, time ticks and other vchannels included. */
  observeMessage(model: ScannerModel, type: MessageType, bytes: number): void;
  /** Every data message that passed the vchannel filter. */
  observePassedMessage(model: ScannerModel, type: MessageType, bytes: number): void;
  /** A message dropped because its tick is below one already released. */
  observeTimeTickViolation(model: ScannerModel, type: MessageType): void;
  /** The txn buffer settled a message or transaction. */
  observeTxn(outcome: TxnOutcome): void;
  /** Bytes entered (positive) or left (negative) a pending queue. */
  addPendingQueueBytes(delta: number): void;
  /** Bytes entered or left a reorder buffer. */
  addReorderBufferBytes(delta: number): void;
  /** Bytes entered or left a txn buffer. */
  addTxnBufferBytes(delta: number): void;
  /** A scanner started waiting at its pause gate. */
  pauseStarted(): void;
  /** A scanner left its pause gate (resumed or closed) after `durationMs`. */
  pauseEnded(durationMs: number): void;
  /**
   * A read error the scanner retries, by its `code` (optional: sinks written before it was
   * added are still valid, the scanner calls it only when present).
   */
  observeRetry?(code: string): void;
  /**
   * How far a scanner is behind its log after delivering a message (optional, like
   * `observeRetry`): `seconds` between the newest time tick written and the last delivered one,
   * `messages` still to read when the backend knows it. Reported per scanner; a sink keyed by
   * `scanner.name` keeps the latest value of each.
   */
  observeLag?(scanner: ScannerInfo, lag: ScannerLag): void;
}

/**
 * A scanner's lag behind its log (see {@link ScannerMetrics.observeLag}).
 *
 * @example
 * ```ts
 * const metrics = createInMemoryMetrics();
 * scanWal(wal, { name: 'indexer', metrics }).subscribe(apply);
 * const lag: ScannerLag | undefined = metrics.snapshot().lag.indexer; // { seconds: 0.4, messages: 12 }
 * ```
 */
export interface ScannerLag {
  /** The newest time tick written minus the last tick delivered, in seconds (≥ 0). */
  readonly seconds: number;
  /** Records written after the last one read, when the backend can tell. */
  readonly messages?: number | undefined;
}

function ignore(): void {
  // a no-op sink drops every event
}

/**
 * A {@link ScannerMetrics} that drops every event: the default.
 *
 * @example
 * ```ts
 * reorderUntilTick({ metrics: noopMetrics });
 * ```
 */
export const noopMetrics: ScannerMetrics = Object.freeze({
  scannerOpened: ignore,
  scannerClosed: ignore,
  switchModel: ignore,
  observeMessage: ignore,
  observePassedMessage: ignore,
  observeTimeTickViolation: ignore,
  observeTxn: ignore,
  addPendingQueueBytes: ignore,
  addReorderBufferBytes: ignore,
  addTxnBufferBytes: ignore,
  pauseStarted: ignore,
  pauseEnded: ignore,
  observeRetry: ignore,
  observeLag: ignore,
});

/** A copy of what an in-memory sink has counted. */
export interface MetricsSnapshot {
  /** Live scanners per model. */
  scanners: {
    /** Scanners reading the durable log. */
    catchup: number;
    /** Scanners reading the write-ahead buffer. */
    tailing: number;
  };
  /** Scanners paused right now. */
  paused: number;
  /** How long each ended pause lasted, in ms, in the order they ended. */
  pauseDurationsMs: number[];
  /** Observed messages, by type. */
  messages: Record<MessageType, number>;
  /** Data messages that passed the vchannel filter, by type. */
  passedMessages: Record<MessageType, number>;
  /** Messages dropped because their tick was below one already released. */
  timeTickViolations: number;
  /** Transaction outcomes in the txn buffer. */
  txn: {
    /** Messages outside transactions, passed through. */
    autocommit: number;
    /** Transactions delivered at their commit. */
    committed: number;
    /** Transactions dropped at their rollback. */
    rolledBack: number;
    /** Transactions dropped because their keepalive passed. */
    expired: number;
    /** Transactions dropped as malformed (a body without a begin, …). */
    error: number;
  };
  /** Sums of the deltas. */
  bytes: {
    /** Bytes waiting for pull consumers. */
    pendingQueue: number;
    /** Bytes held by reorder buffers. */
    reorderBuffer: number;
    /** Bytes held by txn buffers. */
    txnBuffer: number;
  };
  /** Retried read errors, by code. */
  retries: Record<string, number>;
  /** The latest lag reported by each open scanner, by name (removed when it closes). */
  lag: Record<string, ScannerLag>;
}

/**
 * A {@link ScannerMetrics} that counts in memory; `snapshot()` returns a copy. For tests,
 * examples and small tools.
 *
 * @example
 * ```ts
 * const metrics = createInMemoryMetrics();
 * source$.pipe(reorderUntilTick({ metrics })).subscribe();
 * expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
 * ```
 */
export function createInMemoryMetrics(): ScannerMetrics & {
  /** A copy of the counts so far. */
  snapshot(): MetricsSnapshot;
} {
  const state: MetricsSnapshot = {
    scanners: { catchup: 0, tailing: 0 },
    paused: 0,
    pauseDurationsMs: [],
    messages: {},
    passedMessages: {},
    timeTickViolations: 0,
    txn: { autocommit: 0, committed: 0, rolledBack: 0, expired: 0, error: 0 },
    bytes: { pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 },
    retries: {},
    lag: {},
  };
  return {
    scannerOpened() {
      // a scanner is counted by its first switchModel(undefined, model)
    },
    scannerClosed(scanner) {
      if (scanner.model !== undefined) state.scanners[scanner.model] -= 1;
      delete state.lag[scanner.name]; // a closed scanner has no lag (and many would leak)
    },
    switchModel(from, to) {
      if (from !== undefined) state.scanners[from] -= 1;
      state.scanners[to] += 1;
    },
    observeMessage(_model, type) {
      state.messages[type] = (state.messages[type] ?? 0) + 1;
    },
    observePassedMessage(_model, type) {
      state.passedMessages[type] = (state.passedMessages[type] ?? 0) + 1;
    },
    observeTimeTickViolation() {
      state.timeTickViolations += 1;
    },
    observeTxn(outcome) {
      state.txn[outcome] += 1;
    },
    addPendingQueueBytes(delta) {
      state.bytes.pendingQueue += delta;
    },
    addReorderBufferBytes(delta) {
      state.bytes.reorderBuffer += delta;
    },
    addTxnBufferBytes(delta) {
      state.bytes.txnBuffer += delta;
    },
    pauseStarted() {
      state.paused += 1;
    },
    pauseEnded(durationMs) {
      state.paused -= 1;
      state.pauseDurationsMs.push(durationMs);
    },
    observeRetry(code) {
      state.retries[code] = (state.retries[code] ?? 0) + 1;
    },
    observeLag(scanner, lag) {
      state.lag[scanner.name] = { ...lag };
    },
    snapshot() {
      return structuredClone(state);
    },
  };
}
