import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';

import {
  ClosedError,
  ConfigError,
  CorruptRecordError,
  FencedError,
  InvalidMessageError,
} from '../errors.js';
import { parseDuration, type Duration } from '../internal/duration.js';
import { createMessage } from '../message/createMessage.js';
import type { WalMessage } from '../message/message.js';
import { messageId, sequenceOf, type MessageId } from '../message/messageId.js';
import { DeliverPolicy, checkDeliverPolicy } from '../options/deliverPolicy.js';
import type { RawMessageInit } from '../wal/memoryWal.js';
import {
  hintedVChannel,
  type AppendInit,
  type ReadableWal,
  type LogEnd,
  type ReadHint,
  type Wal,
  type WalOptions,
  type WalReader,
  type WalTxn,
} from '../wal/wal.js';
import type { TimeTick } from '../message/tso.js';
import { WalWriter, type LogStorage } from '../wal/writer.js';
import type { WabReader, WriteAheadBuffer } from '../wal/writeAheadBuffer.js';
import {
  checkPayloadCodec,
  jsonPayloadCodec,
  rawPayloadCodec,
  type PayloadCodec,
} from '../wire/payloadCodec.js';
import { decodeRecord, encodePayload, encodeRecord } from '../wire/record.js';
import { isWellFormed } from '../wire/utf8.js';
import { corruptionOf } from './fileErrors.js';
import {
  DEFAULT_BUSY_TIMEOUT_MS,
  openDatabase,
  timeTickColumn,
  type SqliteDatabase,
} from './schema.js';
import { readStats, type SqliteWalStats } from './stats.js';
import { hasVChannelIndex, SELECT_VCHANNEL_AFTER } from './vchannelIndex.js';

/** Options of {@link openSqliteWal}. */
export interface SqliteWalOptions extends WalOptions {
  /**
   * Open an existing file read-only (`accessMode: 'ro'`): no writer, scanners stay in catch-up
   * and see rows other processes commit, polled every `pollInterval`. Default `false`.
   */
  readOnly?: boolean;
  /**
   * How payloads become bytes. A new file records the codec's name; an existing file must be
   * opened with the codec it was created with (`'raw'` and `'json'` are found by themselves).
   * Default: the file's codec, or {@link rawPayloadCodec} for a new file.
   */
  payloadCodec?: PayloadCodec;
  /**
   * How often a read-only WAL looks for rows committed by another process while a reader waits
   * (a cheap `PRAGMA data_version`). Default `'50ms'`.
   */
  pollInterval?: Duration;
  /**
   * `'full'` (default): an acknowledged append survives a power loss (an fsync per write batch).
   * `'normal'`: it survives a crash of the process but may be lost with the machine.
   */
  synchronous?: 'full' | 'normal';
  /**
   * How long an open or a write waits for a database another process holds locked (two
   * processes creating the same file, a checkpoint) before it fails. Default `'5s'`.
   */
  busyTimeout?: Duration;
  /** Messages a reader fetches per query when `next()` is given no maximum. Default 256. */
  readBatchSize?: number;
  /** Concurrent appends reach the log in a random order (ticks stay in call order). For tests. */
  reorderConcurrentWrites?: boolean;
  /** The randomness behind `reorderConcurrentWrites`; default `Math.random`. */
  random?: () => number;
}

/**
 * A WAL in one SQLite file: a {@link Wal} plus `appendRaw` for logs no writer appends to, a
 * read-only view and `stats()`.
 */
export interface SqliteWal extends Wal {
  /** The file. */
  readonly path: string;
  /** The codec of the payloads. */
  readonly payloadCodec: PayloadCodec;
  /**
   * Stores a message exactly as given (id = the next row, or a given id above the last one),
   * never reordering or repairing it; synchronous and durable when it returns. For logs no writer
   * appends to: mixing it with the writer throws {@link ConfigError}.
   */
  appendRaw(init: RawMessageInit): WalMessage;
  /** A read-only view of the same log: scanners on it never tail. */
  readOnly(): ReadableWal;
  /** Counts of the log (see {@link sqliteWalStats}). */
  stats(): SqliteWalStats;
}

/** Default number of messages a reader returns per batch. */
export const DEFAULT_SQLITE_READ_BATCH = 256;
const DEFAULT_POLL_INTERVAL_MS = 50;
const MAX_BUSY_TIMEOUT_MS = 0x7fffffff;
/** The storage of a writer built only to check its options: it is never started. */
const UNUSED_STORAGE: LogStorage = {
  nextSequence: () => 1n,
  write: () => {
    throw new ClosedError('WAL');
  },
};
const MAX_ROW_ID = (1n << 63n) - 1n;
const BUILT_IN_CODECS: Readonly<Record<string, PayloadCodec>> = {
  [rawPayloadCodec.name]: rawPayloadCodec as PayloadCodec,
  [jsonPayloadCodec.name]: jsonPayloadCodec,
};

/**
 * Opens (creating it if needed) a durable WAL in an SQLite file: WAL journal mode, a versioned
 * schema, message ids = the row sequence, one SQLite transaction per write batch. The writer
 * follows the same rules as the memory WAL's and tails through its in-process write-ahead
 * buffer; a reopened log continues its ids and time ticks. With `readOnly: true` another process
 * can scan the file while the writer appends to it.
 *
 * Rows another process appends to the file of this writer fence it: its calls, and scanners
 * tailing its write-ahead buffer, fail with `FencedError`; catch-up scanners deliver those rows.
 *
 * @throws ConfigError for bad options, a file that is not an rxwal log, a schema newer than this
 * rxwal, or a payload codec other than the file's; `FileAccessError` (a ConfigError) for a
 * path that cannot be opened; CorruptRecordError for a damaged file
 *
 * @example
 * ```ts
 * import { scanWal } from 'rxwal';
 * import { openSqliteWal } from 'rxwal/sqlite';
 *
 * const wal = await openSqliteWal('./data/p0.db', { channel: 'p0', payloadCodec: jsonPayloadCodec });
 * await wal.append({ type: 'Insert', vchannel: 'v1', payload: { pk: 1 } });
 * scanWal(wal, { vchannel: 'v1' }).subscribe(console.log);
 *
 * // another process
 * const follower = await openSqliteWal('./data/p0.db', { readOnly: true });
 * scanWal(follower).subscribe(console.log); // catch-up, sees new rows as they are committed
 * ```
 */
export async function openSqliteWal(
  path: string,
  options: SqliteWalOptions = {},
): Promise<SqliteWal> {
  await Promise.resolve(); // always settle asynchronously, errors included
  if (typeof path !== 'string' || path === '') {
    throw new ConfigError('path', path, 'must be a non-empty file path');
  }
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object');
  }
  const readOnly = options.readOnly ?? false;
  if (typeof readOnly !== 'boolean')
    throw new ConfigError('readOnly', readOnly, 'must be a boolean');
  const synchronous = options.synchronous ?? 'full';
  if (synchronous !== 'full' && synchronous !== 'normal') {
    throw new ConfigError('synchronous', synchronous, "must be 'full' or 'normal'");
  }
  const pollMs = parseDuration(options.pollInterval ?? DEFAULT_POLL_INTERVAL_MS, 'pollInterval');
  if (pollMs <= 0) throw new ConfigError('pollInterval', options.pollInterval, 'must be positive');
  const readBatch = options.readBatchSize ?? DEFAULT_SQLITE_READ_BATCH;
  if (!Number.isSafeInteger(readBatch) || readBatch <= 0) {
    throw new ConfigError('readBatchSize', readBatch, 'must be a positive integer');
  }
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof scheduler.now !== 'function' || typeof scheduler.schedule !== 'function') {
    throw new ConfigError('scheduler', options.scheduler, 'must be a SchedulerLike');
  }
  const busyTimeoutMs = parseDuration(
    options.busyTimeout ?? DEFAULT_BUSY_TIMEOUT_MS,
    'busyTimeout',
  );
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs > MAX_BUSY_TIMEOUT_MS) {
    throw new ConfigError(
      'busyTimeout',
      options.busyTimeout,
      `must be a whole number of milliseconds up to ${MAX_BUSY_TIMEOUT_MS}`,
    );
  }
  const givenCodec =
    options.payloadCodec === undefined ? undefined : checkPayloadCodec(options.payloadCodec);
  if (
    options.channel !== undefined &&
    (typeof options.channel !== 'string' || options.channel === '')
  ) {
    throw new ConfigError('channel', options.channel, 'must be a non-empty string');
  }
  // The writer's options are checked read-only too (and before the file is touched): a writer
  // that is never started checks them all and does nothing else.
  new WalWriter(UNUSED_STORAGE, options);

  const { db, meta } = openDatabase(path, {
    readOnly,
    synchronous,
    busyTimeoutMs,
    create: {
      channel: options.channel ?? 'rxwal',
      payload_codec: (givenCodec ?? rawPayloadCodec).name,
    },
  });
  let log: SqliteLog;
  let writer: WalWriter | undefined;
  try {
    const channel = meta.get('channel') ?? 'rxwal';
    if (options.channel !== undefined && options.channel !== channel) {
      throw new ConfigError(
        'channel',
        options.channel,
        `differs from the log's channel "${channel}"`,
      );
    }
    const storedCodec = meta.get('payload_codec') ?? rawPayloadCodec.name;
    let codec: PayloadCodec;
    if (givenCodec !== undefined) {
      if (givenCodec.name !== storedCodec) {
        throw new ConfigError(
          'payloadCodec',
          givenCodec.name,
          `differs from the codec the log was created with ('${storedCodec}')`,
        );
      }
      codec = givenCodec;
    } else {
      const builtIn = BUILT_IN_CODECS[storedCodec];
      if (builtIn === undefined) {
        throw new ConfigError(
          'payloadCodec',
          undefined,
          `is required: the log was created with codec '${storedCodec}'`,
        );
      }
      codec = builtIn;
    }
    const writtenBy = meta.get('written_by');
    const lastTick = meta.get('last_time_tick');
    log = new SqliteLog(db, {
      path,
      codec,
      readOnly,
      pollMs,
      readBatch,
      scheduler,
      lastTimeTick: lastTick === undefined ? undefined : BigInt(lastTick),
      writtenBy: writtenBy === 'writer' || writtenBy === 'raw' ? writtenBy : undefined,
    });
    if (!readOnly) {
      writer = new WalWriter(log, {
        ...options,
        channel,
        ...(log.lastTimeTick === undefined ? {} : { lastTimeTick: log.lastTimeTick }),
      });
    }
    return createSqliteWal(path, channel, codec, log, writer);
  } catch (err) {
    db.close();
    throw err;
  }
}

function createSqliteWal(
  path: string,
  channel: string,
  codec: PayloadCodec,
  log: SqliteLog,
  writer: WalWriter | undefined,
): SqliteWal {
  const useWriter = (): WalWriter => {
    if (log.closed) throw new ClosedError('WAL');
    log.throwIfFenced();
    if (writer === undefined)
      throw new ConfigError('readOnly', true, 'the WAL was opened read-only: it cannot be written');
    if (log.writtenBy === 'raw')
      throw new ConfigError('writer', channel, 'cannot append to a log written with appendRaw');
    log.writtenBy = 'writer';
    return writer;
  };
  const guard = <T>(call: (w: WalWriter) => Promise<T>): Promise<T> => {
    let w: WalWriter;
    try {
      w = useWriter();
    } catch (err) {
      return Promise.reject(err);
    }
    return call(w);
  };
  const append = <P>(to: Appender, m: AppendInit<P>): Promise<WalMessage<P>> => {
    // Check what the record needs now: a payload the codec refuses, or a string UTF-8 cannot
    // hold, rejects this append only, not every append of its write batch.
    if (typeof m === 'object' && m !== null) {
      try {
        checkStorable(m);
        if (m.payload !== undefined)
          log.rememberPayload(m.payload, encodePayload(codec, m.payload));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return to.append(m);
  };

  const readOnlyView: ReadableWal = Object.freeze({
    channel,
    accessMode: 'ro' as const,
    read: (policy: DeliverPolicy, hint?: ReadHint) => log.read(policy, hint),
    logEnd: () => log.end(),
  });
  const readOnly = writer === undefined;
  let checkedBuffer: FencedBuffer | undefined;

  const wal: SqliteWal = {
    path,
    channel,
    payloadCodec: codec,
    accessMode: readOnly ? 'ro' : 'rw',
    get writeAheadBuffer(): WriteAheadBuffer | undefined {
      const buffer = writer?.writeAheadBuffer;
      if (buffer === undefined) return undefined;
      if (checkedBuffer?.inner !== buffer) checkedBuffer = new FencedBuffer(buffer, log);
      return checkedBuffer;
    },
    read: (policy, hint) => log.read(policy, hint),
    logEnd: () => log.end(),
    append: (m) => guard((w) => append(w, m)),
    beginTxn: (o) =>
      guard(async (w) => {
        const txn = await w.beginTxn(o);
        const wrapped: WalTxn = {
          txnId: txn.txnId,
          begin: txn.begin,
          append: (m) => (log.closed ? Promise.reject(new ClosedError('WAL')) : append(txn, m)),
          commit: () => txn.commit(),
          rollback: () => txn.rollback(),
        };
        return wrapped;
      }),
    syncTimeTick: (o) => guard((w) => w.syncTimeTick(o)),
    appendRaw: (init) => log.appendRaw(init, channel),
    readOnly: () => readOnlyView,
    stats: () => log.stats(),
    async close() {
      if (writer !== undefined) await writer.close();
      log.close();
    },
  };
  if (!readOnly) {
    (wal as { requestPersistedTimeTick?: () => void }).requestPersistedTimeTick = () =>
      writer?.requestPersistedTimeTick();
  }
  return wal;
}

/** Something to append to: the writer or one of its transactions. */
interface Appender {
  append<P>(m: AppendInit<P>): Promise<WalMessage<P>>;
}

/** Throws {@link InvalidMessageError} for a string field that UTF-8 cannot hold unchanged. */
function checkStorable(m: AppendInit): void {
  // Called for every append: check in place, allocating nothing on the common path.
  checkString('type', m.type);
  checkString('vchannel', m.vchannel);
  const properties = m.properties;
  if (typeof properties === 'object' && properties !== null) {
    for (const key in properties) {
      checkString(`properties.${key}`, key);
      checkString(`properties.${key}`, properties[key]);
    }
  }
}

function checkString(field: string, value: unknown): void {
  if (typeof value === 'string' && !isWellFormed(value)) {
    throw new InvalidMessageError(field, value, 'holds a lone surrogate: it is not valid UTF-8');
  }
}

interface LogOptions {
  readonly path: string;
  readonly codec: PayloadCodec;
  readonly readOnly: boolean;
  readonly pollMs: number;
  readonly readBatch: number;
  readonly scheduler: SchedulerLike;
  readonly lastTimeTick: bigint | undefined;
  readonly writtenBy: 'writer' | 'raw' | undefined;
}

/** A reader waiting for rows: woken by a local write, or by the poller when the file changed. */
interface Waiter {
  readonly wake: () => void;
  /** `PRAGMA data_version` seen before the reader's last empty query (read-only logs). */
  readonly dataVersion: number;
}

type Row = [bigint, unknown];

/** The table: writes in one transaction per batch, reads in batches, readers woken on writes. */
class SqliteLog implements LogStorage {
  closed = false;
  writtenBy: 'writer' | 'raw' | undefined;
  lastTimeTick: bigint | undefined;
  private lastSequence: bigint;
  private writtenByStored: boolean;
  private waiters = new Set<Waiter>();
  private poller: Subscription | undefined;
  /** Set once another connection was seen appending: this log's writer may not write again. */
  private fenced: FencedError | undefined;
  /** `PRAGMA data_version` when foreign writes were last looked for (read-write logs). */
  private seenDataVersion: number;
  private readonly encodedPayloads = new WeakMap<object, Uint8Array>();
  private readonly selectAfter;
  /** Rows of one vchannel, the broadcasts and the ticks; undefined on a version-1 file. */
  private readonly selectVChannelAfter;
  private readonly selectMaxId;
  /** The newest records' id and highest tick: where the log ends, for the lag. */
  private readonly selectEnd;
  private readonly dataVersion;
  private readonly insertRow;
  private readonly upsertMeta;
  private readonly writeRows;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: LogOptions,
  ) {
    this.writtenBy = options.writtenBy;
    this.writtenByStored = options.writtenBy !== undefined;
    this.lastTimeTick = options.lastTimeTick;
    this.selectAfter = db
      .prepare<[bigint, number], Row>(
        'SELECT id, record FROM rxwal_log WHERE id > ? ORDER BY id LIMIT ?',
      )
      .raw(true)
      .safeIntegers(true);
    this.selectVChannelAfter = hasVChannelIndex(db)
      ? db
          .prepare<[{ vchannel: string; after: bigint; limit: number }], Row>(SELECT_VCHANNEL_AFTER)
          .raw(true)
          .safeIntegers(true)
      : undefined;
    this.selectMaxId = db
      .prepare<[], bigint | null>('SELECT max(id) FROM rxwal_log')
      .pluck()
      .safeIntegers(true);
    // Ticks are stored zero-padded, so max() of the text is the highest; the newest 64 records
    // (by the primary key, no scan) hold the highest tick of a well-formed log.
    this.selectEnd = db
      .prepare<[], { id: bigint | null; tick: string | null }>(
        'SELECT max(id) AS id, max(time_tick) AS tick FROM (SELECT id, time_tick FROM rxwal_log ORDER BY id DESC LIMIT 64)',
      )
      .safeIntegers(true);
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.lastSequence = this.selectMaxId.get() ?? 0n;
    this.seenDataVersion = this.dataVersion.get() ?? 0;
    if (options.readOnly) {
      this.insertRow = undefined;
      this.upsertMeta = undefined;
      this.writeRows = undefined;
      return;
    }
    const insertRow = db.prepare<[bigint, string, string, string, bigint | null, Buffer]>(
      'INSERT INTO rxwal_log (id, time_tick, type, vchannel, txn_id, record) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const upsertMeta = db.prepare<[string, string]>(
      'INSERT INTO rxwal_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    this.insertRow = insertRow;
    this.upsertMeta = upsertMeta;
    this.writeRows = db.transaction(
      (
        messages: readonly WalMessage[],
        records: readonly Buffer[],
        maxTick: bigint | undefined,
      ) => {
        // Another process writing the same file would interleave ids: refuse before writing.
        const last = this.selectMaxId.get() ?? 0n;
        if (last !== this.lastSequence) {
          throw new FencedError(
            `another writer has appended to ${options.path} (last id ${last}, expected ${this.lastSequence})`,
          );
        }
        for (let i = 0; i < messages.length; i++) {
          const m = messages[i] as WalMessage;
          insertRow.run(
            sequenceOf(m.id) as bigint,
            timeTickColumn(m.timeTick),
            m.type,
            m.vchannel,
            m.txn?.txnId ?? null,
            records[i] as Buffer,
          );
        }
        if (maxTick !== undefined) upsertMeta.run('last_time_tick', maxTick.toString());
        if (!this.writtenByStored) upsertMeta.run('written_by', this.writtenBy ?? 'writer');
      },
    );
  }

  nextSequence(): bigint {
    return this.lastSequence + 1n;
  }

  /** Keeps a payload's bytes encoded at append time, for the write of its batch. */
  rememberPayload(payload: unknown, bytes: Uint8Array): void {
    if (typeof payload === 'object' && payload !== null) this.encodedPayloads.set(payload, bytes);
  }

  write(messages: readonly WalMessage[]): void {
    if (this.closed || this.writeRows === undefined) throw new ClosedError('WAL');
    this.throwIfFenced();
    const codec = this.options.codec;
    const records: Buffer[] = [];
    let maxTick = this.lastTimeTick;
    for (const m of messages) {
      const payload = m.payload;
      const known =
        typeof payload === 'object' && payload !== null
          ? this.encodedPayloads.get(payload)
          : undefined;
      records.push(encodeRecord(m, codec, known));
      if (maxTick === undefined || m.timeTick > maxTick) maxTick = m.timeTick;
    }
    try {
      this.writeRows(messages, records, maxTick === this.lastTimeTick ? undefined : maxTick);
    } catch (err) {
      if (err instanceof FencedError) this.fence(err);
      throw corruptionOf(err, this.options.path, `the write of id ${String(messages[0]?.id.key)}`);
    }
    this.writtenByStored = true;
    this.lastTimeTick = maxTick;
    const last = messages[messages.length - 1];
    if (last !== undefined) this.lastSequence = sequenceOf(last.id) as bigint;
    this.wake();
  }

  appendRaw(init: RawMessageInit, channel: string): WalMessage {
    if (this.closed) throw new ClosedError('WAL');
    if (this.writeRows === undefined)
      throw new ConfigError('readOnly', true, 'the WAL was opened read-only: it cannot be written');
    if (this.writtenBy === 'writer')
      throw new ConfigError('appendRaw', channel, 'cannot be used on a log its writer appends to');
    if (typeof init !== 'object' || init === null)
      throw new ConfigError('appendRaw', init, 'needs a message');
    const message = createMessage({ ...init, id: init.id ?? this.nextSequence() });
    const seq = sequenceOf(message.id);
    // Row ids are unique (INTEGER PRIMARY KEY): unlike the memory WAL, no duplicate ids.
    if (seq === undefined || seq <= this.lastSequence || seq > MAX_ROW_ID) {
      throw new ConfigError(
        'appendRaw id',
        message.id.key,
        `must be a numeric id above the last one (${this.lastSequence}) and below 2^63`,
      );
    }
    if (!message.persisted) {
      throw new ConfigError(
        'appendRaw persisted',
        false,
        'a not-persisted time tick never reaches the log',
      );
    }
    if (message.lastConfirmedId.compare(message.id) > 0) {
      throw new ConfigError(
        'appendRaw lastConfirmedId',
        message.lastConfirmedId.key,
        `must not be after the message's own id ${message.id.key}`,
      );
    }
    const previous = this.writtenBy;
    this.writtenBy = 'raw';
    try {
      this.write([message]);
    } catch (err) {
      this.writtenBy = previous;
      throw err;
    }
    return message;
  }

  /** Where the log ends now: the newest record's id and the highest tick among the newest. */
  end(): LogEnd | undefined {
    if (this.closed) return undefined;
    let row: { id: bigint | null; tick: string | null } | undefined;
    try {
      row = this.selectEnd.get();
    } catch (err) {
      throw corruptionOf(err, this.options.path, 'the end of the log');
    }
    if (row?.id === null || row?.id === undefined || row.tick === null) return undefined;
    return { id: messageId(row.id), timeTick: BigInt(row.tick) };
  }

  read(policy: DeliverPolicy, hint?: ReadHint): WalReader {
    if (this.closed) throw new ClosedError('WAL');
    checkDeliverPolicy(policy, 'policy');
    // without the version-2 index the hint is ignored: the scanner filters anyway
    const vchannel = this.selectVChannelAfter === undefined ? '' : hintedVChannel(hint);
    switch (policy.kind) {
      case 'all':
        return new SqliteReader(this, -1n, policy, vchannel);
      case 'latest': {
        let last: bigint | undefined;
        try {
          last = this.selectMaxId.get() ?? undefined;
        } catch (err) {
          throw corruptionOf(err, this.options.path, 'the last id');
        }
        return last === undefined
          ? new SqliteReader(this, -1n, DeliverPolicy.all(), vchannel)
          : new SqliteReader(this, last, DeliverPolicy.startAfter(messageId(last)), vchannel);
      }
      case 'startFrom':
        return new SqliteReader(this, positionOf(policy.id) - 1n, policy, vchannel);
      case 'startAfter':
        return new SqliteReader(this, positionOf(policy.id), policy, vchannel);
    }
  }

  /**
   * @internal up to `max` messages after id `after`; empty when there are none yet. A damaged
   * row ends the batch before it, and is reported when it comes first.
   */
  readAfter(after: bigint, max: number, vchannel = ''): WalMessage[] {
    let rows: Row[];
    try {
      rows =
        vchannel === '' || this.selectVChannelAfter === undefined
          ? this.selectAfter.all(after, max)
          : this.selectVChannelAfter.all({ vchannel, after, limit: max });
    } catch (err) {
      // damaged pages never heal: CorruptRecordError ends the scanner instead of a retry for ever
      throw corruptionOf(err, this.options.path, `the rows after id ${after}`);
    }
    const messages: WalMessage[] = [];
    for (const [id, record] of rows) {
      try {
        if (!(record instanceof Uint8Array)) {
          throw new CorruptRecordError(
            String(id),
            `the record column holds ${typeof record}, not bytes`,
          );
        }
        messages.push(decodeRecord(record, id, this.options.codec));
      } catch (err) {
        if (messages.length > 0) break;
        throw err;
      }
    }
    return messages;
  }

  get readBatch(): number {
    return this.options.readBatch;
  }

  /** @internal the `PRAGMA data_version` to compare with after an empty read. */
  currentDataVersion(): number {
    try {
      return this.dataVersion.get() ?? 0;
    } catch (err) {
      throw corruptionOf(err, this.options.path, 'the data version');
    }
  }

  /** @internal throws the {@link FencedError} of a log another process has appended to. */
  throwIfFenced(): void {
    if (this.fenced !== undefined) throw this.fenced;
  }

  /**
   * @internal read-write logs: has another connection appended rows since the last look? Then
   * the log is fenced (this throws): its writer's ids would collide, and the write-ahead buffer
   * misses those rows, so its tailing readers must not go on. Cheap when nothing changed (one
   * `PRAGMA data_version`).
   */
  checkForeignWrites(): void {
    if (this.options.readOnly || this.closed) return;
    this.noticeForeignWrites(this.currentDataVersion());
    this.throwIfFenced();
  }

  /** @internal wakes `waiter` on the next write here, a change of the file by another process, or close. */
  onWrite(waiter: Waiter): void {
    this.waiters.add(waiter);
    if (this.poller === undefined) this.schedulePoll();
  }

  /** @internal forgets a waiter (a closed reader). */
  forget(waiter: Waiter): void {
    this.waiters.delete(waiter);
  }

  stats(): SqliteWalStats {
    if (this.closed) throw new ClosedError('WAL');
    return readStats(this.db, this.options.path);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller?.unsubscribe();
    this.poller = undefined;
    this.wake();
    this.db.close();
  }

  private schedulePoll(): void {
    this.poller = this.options.scheduler.schedule(() => {
      this.poller = undefined;
      if (this.closed || this.waiters.size === 0) return;
      let version: number;
      try {
        version = this.currentDataVersion();
        if (!this.options.readOnly) this.noticeForeignWrites(version);
      } catch {
        this.wake(); // the readers meet the error themselves
        return;
      }
      for (const waiter of [...this.waiters]) {
        if (waiter.dataVersion === version) continue;
        this.waiters.delete(waiter);
        waiter.wake();
      }
      if (this.waiters.size > 0 && this.poller === undefined) this.schedulePoll();
    }, this.options.pollMs);
  }

  private noticeForeignWrites(version: number): void {
    if (version === this.seenDataVersion) return;
    this.seenDataVersion = version;
    if (this.fenced !== undefined) return;
    const last = this.selectMaxId.get() ?? 0n;
    if (last === this.lastSequence) return; // another connection, but not a row of the log
    this.fence(
      new FencedError(
        `another process has appended to ${this.options.path} (last id ${last}, this writer's ${this.lastSequence})`,
      ),
    );
  }

  private fence(err: FencedError): void {
    this.fenced ??= err;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const waiter of waiters) waiter.wake();
  }
}

function positionOf(id: MessageId): bigint {
  const seq = sequenceOf(id);
  if (seq === undefined) throw new ConfigError('policy.id', id.key, 'is not an id of this WAL');
  // No row id is above 2^63 − 1 (SQLite's limit): a position past it simply waits for nothing.
  return seq > MAX_ROW_ID ? MAX_ROW_ID : seq;
}

class SqliteReader implements WalReader {
  private closed = false;
  private waiter: Waiter | undefined;

  constructor(
    private readonly log: SqliteLog,
    /** The id of the last message returned (or before the start). */
    private after: bigint,
    readonly resolvedPolicy: DeliverPolicy,
    /** The hinted vchannel, `''` for every row. */
    private readonly vchannel: string,
  ) {}

  async next(maxMessages = this.log.readBatch): Promise<readonly WalMessage[]> {
    if (!Number.isSafeInteger(maxMessages) || maxMessages <= 0) {
      throw new ConfigError('maxMessages', maxMessages, 'must be a positive integer');
    }
    for (;;) {
      if (this.closed) throw new ClosedError('WAL reader');
      if (this.log.closed) throw new ClosedError('WAL');
      const dataVersion = this.log.currentDataVersion();
      const batch = this.log.readAfter(this.after, maxMessages, this.vchannel);
      if (batch.length > 0) {
        this.after = sequenceOf((batch[batch.length - 1] as WalMessage).id) as bigint;
        return batch;
      }
      await new Promise<void>((resolve) => {
        this.waiter = { wake: resolve, dataVersion };
        this.log.onWrite(this.waiter);
      });
      this.waiter = undefined;
    }
  }

  close(): void {
    this.closed = true;
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.log.forget(waiter); // a closed reader leaves nothing behind in the log
    waiter.wake();
  }
}

/**
 * The writer's write-ahead buffer as tailing scanners see it: before an entry is handed out, the
 * file is checked for rows another process appended, which the buffer never holds. Once there
 * are some, the readers reject {@link FencedError} instead of handing out time ticks that would
 * pass over those rows unseen.
 */
class FencedBuffer implements WriteAheadBuffer {
  constructor(
    readonly inner: WriteAheadBuffer,
    private readonly log: SqliteLog,
  ) {}

  async readFromExclusiveTimeTick(
    tt: TimeTick,
    options?: ReadHint & { signal?: AbortSignal },
  ): Promise<WabReader> {
    this.log.checkForeignWrites();
    return new FencedBufferReader(
      await this.inner.readFromExclusiveTimeTick(tt, options),
      this.log,
    );
  }
}

class FencedBufferReader implements WabReader {
  constructor(
    private readonly inner: WabReader,
    private readonly log: SqliteLog,
  ) {}

  async next(): Promise<WalMessage> {
    this.log.throwIfFenced(); // do not wait for an entry that could never be handed out
    const m = await this.inner.next();
    // checked after the entry exists: a row committed before it was written is seen now
    this.log.checkForeignWrites();
    return m;
  }

  readBuffered(max: number): readonly WalMessage[] {
    try {
      this.log.checkForeignWrites();
    } catch {
      return []; // nothing at hand: the next next() rejects
    }
    return this.inner.readBuffered?.(max) ?? [];
  }

  close(): void {
    this.inner.close();
  }
}
