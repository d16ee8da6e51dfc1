import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { asyncScheduler } from 'rxjs';

import { ClosedError, ConfigError } from '../errors.js';
import { parseDuration, type Duration } from '../internal/duration.js';
import type { WalMessage } from '../message/message.js';
import { sequenceOf, type MessageId } from '../message/messageId.js';
import { childLogger } from '../observability/logger.js';
import { checkDeliverPolicy, type DeliverPolicy } from '../options/deliverPolicy.js';
import {
  hintedVChannel,
  type AppendInit,
  type LogEnd,
  type ReadableWal,
  type ReadHint,
  type Wal,
  type WalOptions,
  type WalReader,
  type WalTxn,
} from '../wal/wal.js';
import { WalWriter } from '../wal/writer.js';
import type { WriteAheadBuffer } from '../wal/writeAheadBuffer.js';
import {
  checkPayloadCodec,
  jsonPayloadCodec,
  rawPayloadCodec,
  type PayloadCodec,
} from '../wire/payloadCodec.js';
import { decodeRecord } from '../wire/record.js';
import { holdConnection, type NatsConnectionOptions } from './connection.js';
import { JetStreamLog } from './jetStreamLog.js';
import { JetStreamReader, type ReaderContext, type ReaderStart } from './jetStreamReader.js';
import { loadNatsModules } from './modules.js';
import { StreamEnd, type StreamPosition } from './streamEnd.js';
import { channelSubjects, hintedSubjects } from './subjects.js';

/** Options of {@link openJetStreamWal}. */
export interface JetStreamWalOptions extends WalOptions, NatsConnectionOptions {
  /** The pchannel: one stream, `RXWAL_<channel>` (escaped as docs/nats.md says). */
  channel: string;
  /** No writer (`accessMode: 'ro'`): scanners stay in catch-up and see new messages as they come. */
  readOnly?: boolean;
  /** Replicas of a stream this call creates (1, 3 or 5). Default 1. */
  replicas?: number;
  /** Storage of a stream this call creates. Default `'file'`. */
  storage?: 'file' | 'memory';
  /**
   * How payloads become bytes. A new stream records the codec's name in its description; an
   * existing stream must be opened with its codec (`'raw'` and `'json'` are found by themselves).
   */
  payloadCodec?: PayloadCodec;
  /** How long one publish waits for its acknowledgement before it is retried. Default `'2s'`. */
  publishTimeout?: Duration;
  /**
   * How long a batch keeps being retried while the stream has no leader (failover) before the
   * append rejects and the writer stops. Default `'30s'`.
   */
  publishDeadline?: Duration;
  /** Publishes in flight at once. Default 256. */
  maxInFlight?: number;
  /**
   * Messages a reader asks for per pull request. A reader keeps at most twice this many decoded
   * messages ahead of its scanner, and asks for more once a request's worth of room is free, so
   * the server sends the next messages while the scanner handles the last ones. Default 1024.
   */
  readBatchSize?: number;
  /**
   * How long a reader waits for messages before its watchdog checks the stream; at least 1 s.
   * Default `'2s'`.
   */
  readerWatchdog?: Duration;
}

/** A WAL on one JetStream stream (see {@link openJetStreamWal}). */
export interface JetStreamWal extends Wal {
  /** The stream holding the pchannel. */
  readonly stream: string;
  /** The codec of the payloads. */
  readonly payloadCodec: PayloadCodec;
  /** The connection the WAL uses (closed by `close()` only when the WAL opened it). */
  readonly connection: NatsConnection;
  /**
   * The stream's last sequence now (0 when empty): one request to the server.
   *
   * @example
   * ```ts
   * const end = await wal.lastSequence(); // scan up to here
   * ```
   */
  lastSequence(): Promise<bigint>;
  /**
   * Where the log ends (the stream's last sequence as an id, and the highest time tick written),
   * without waiting: what this process's writer had acknowledged, or what the server said at the
   * last refresh. A call finding that refresh older than a second asks the server again in the
   * background, so scanners report their lag (`ScannerMetrics.observeLag`) from it as they do on
   * the memory and SQLite WALs. Undefined for an empty stream.
   *
   * @example
   * ```ts
   * const end = wal.logEnd(); // { id: messageId(1200), timeTick: 4425…n } or undefined
   * ```
   */
  logEnd(): LogEnd | undefined;
  /**
   * Asks the server where the stream ends now (one or three requests), updates what
   * {@link JetStreamWal.logEnd} answers, and resolves with it.
   *
   * @example
   * ```ts
   * const end = await wal.refreshLogEnd();
   * ```
   */
  refreshLogEnd(): Promise<LogEnd | undefined>;
}

/** The default `readBatchSize` of {@link openJetStreamWal}. */
const DEFAULT_JETSTREAM_READ_BATCH = 1024;

const BUILT_IN_CODECS: Readonly<Record<string, PayloadCodec>> = {
  [rawPayloadCodec.name]: rawPayloadCodec as PayloadCodec,
  [jsonPayloadCodec.name]: jsonPayloadCodec,
};
const DESCRIPTION = /^rxwal log; channel=(.*); codec=([^;]*)$/;

/**
 * Opens (creating the stream if needed) a WAL on NATS JetStream: one stream per pchannel, the
 * message id is the stream sequence, the record is the wire format (the same bytes as SQLite),
 * and the writer is the memory/SQLite writer with every publish fenced by the expected last
 * sequence. Needs the optional peer dependencies `@nats-io/transport-node`, `@nats-io/jetstream`
 * and `@nats-io/kv` 3.x. A wrong password or an unreachable server fails within the connect
 * timeout (`connectOptions.timeout`, default 5 s).
 *
 * @throws ConfigError for bad options, a stream that is not an rxwal log, or another codec;
 * WalError `NATS_CONNECT` when the server cannot be reached or refuses the credentials
 *
 * @example
 * ```ts
 * import { scanWal } from 'rxwal';
 * import { openJetStreamWal } from 'rxwal/nats';
 *
 * const wal = await openJetStreamWal({
 *   channel: 'p0',
 *   servers: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222', 'nats://10.0.0.3:4222'],
 *   connectOptions: { user: 'rxwal', pass: process.env.NATS_PASSWORD },
 *   replicas: 3,
 * });
 * await wal.append({ type: 'Insert', vchannel: 'v1', payload: new Uint8Array([1]) });
 * scanWal(wal, { vchannel: 'v1' }).subscribe((m) => console.log(m.id.key, m.type));
 * ```
 */
export async function openJetStreamWal(options: JetStreamWalOptions): Promise<JetStreamWal> {
  await Promise.resolve(); // always settle asynchronously, errors included
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object');
  }
  const subjects = channelSubjects(options.channel);
  const readOnly = options.readOnly ?? false;
  if (typeof readOnly !== 'boolean')
    throw new ConfigError('readOnly', readOnly, 'must be a boolean');
  const replicas = options.replicas ?? 1;
  if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new ConfigError('replicas', options.replicas, 'must be an integer from 1 to 5');
  }
  const storage = options.storage ?? 'file';
  if (storage !== 'file' && storage !== 'memory') {
    throw new ConfigError('storage', options.storage, "must be 'file' or 'memory'");
  }
  const publishTimeoutMs = positiveDuration(options.publishTimeout ?? '2s', 'publishTimeout');
  const publishDeadlineMs = positiveDuration(options.publishDeadline ?? '30s', 'publishDeadline');
  const watchdogMs = positiveDuration(options.readerWatchdog ?? '2s', 'readerWatchdog');
  if (watchdogMs < 1000) {
    throw new ConfigError('readerWatchdog', options.readerWatchdog, 'must be at least 1s');
  }
  const maxInFlight = positiveInteger(options.maxInFlight ?? 256, 'maxInFlight');
  const batchSize = positiveInteger(
    options.readBatchSize ?? DEFAULT_JETSTREAM_READ_BATCH,
    'readBatchSize',
  );
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof scheduler.now !== 'function' || typeof scheduler.schedule !== 'function') {
    throw new ConfigError('scheduler', options.scheduler, 'must be a SchedulerLike');
  }
  const givenCodec =
    options.payloadCodec === undefined ? undefined : checkPayloadCodec(options.payloadCodec);
  const logger = childLogger(options.logger, {
    component: 'jetStreamWal',
    channel: options.channel,
  });

  const modules = await loadNatsModules();
  const held = await holdConnection(modules, options);
  const nc = held.connection;
  try {
    const jsm = await modules.jetstream.jetstreamManager(nc, { timeout: publishTimeoutMs * 2 });
    const js = jsm.jetstream();
    let info = await streamInfo(jsm, subjects.stream);
    if (info === undefined) {
      if (readOnly) {
        throw new ConfigError(
          'channel',
          options.channel,
          `has no stream ${subjects.stream} to read (open it once with a writer)`,
        );
      }
      info = await jsm.streams.add({
        name: subjects.stream,
        subjects: [subjects.filter],
        description: `rxwal log; channel=${options.channel}; codec=${(givenCodec ?? rawPayloadCodec).name}`,
        storage:
          storage === 'file'
            ? modules.jetstream.StorageType.File
            : modules.jetstream.StorageType.Memory,
        num_replicas: replicas,
        allow_direct: true,
      });
    }
    const codec = codecOf(info, options.channel, givenCodec);
    const lastSequence = BigInt(info.state.last_seq);
    const readers = new Set<JetStreamReader>();
    const context: ReaderContext = {
      modules,
      js,
      jsm,
      stream: subjects.stream,
      codec,
      batchSize,
      watchdogMs,
      scheduler,
      logger,
      release: (reader) => readers.delete(reader),
    };
    let closed = false;
    const read = (policy: DeliverPolicy, hint?: ReadHint): WalReader => {
      if (closed) throw new ClosedError('WAL');
      const checked = checkDeliverPolicy(policy, 'policy');
      // pushdown where the server filters on several subjects; filterVChannel runs anyway
      const filter = hintedSubjects(subjects, hintedVChannel(hint), nc.info?.version);
      const reader = new JetStreamReader(context, startOf(checked), checked, filter);
      readers.add(reader);
      return reader;
    };

    const endOf = async (sequence: bigint): Promise<StreamPosition | undefined> => {
      if (sequence === 0n) return undefined;
      const tick = await lastTimeTickOf(jsm, subjects.stream, subjects.timeTick, sequence, codec);
      return { sequence, timeTick: tick ?? 0n };
    };
    const initialEnd = await endOf(lastSequence);
    const streamEnd = new StreamEnd(
      async (known) => {
        const last = BigInt((await jsm.streams.info(subjects.stream)).state.last_seq);
        return known !== undefined && last <= known.sequence ? undefined : endOf(last);
      },
      scheduler,
      logger,
      initialEnd,
    );

    let writer: WalWriter | undefined;
    let log: JetStreamLog | undefined;
    if (!readOnly) {
      // a reopened writer's clock starts past the newest tick in the stream
      const lastTimeTick =
        initialEnd !== undefined && initialEnd.timeTick > 0n ? initialEnd.timeTick : undefined;
      log = new JetStreamLog({
        js,
        jsm,
        subjects,
        codec,
        lastSequence,
        writerToken: `${nc.info?.client_id ?? 0}-${Math.random().toString(36).slice(2, 10)}`,
        publishTimeoutMs,
        publishDeadlineMs,
        maxInFlight,
        scheduler,
        logger,
        onFailure: (err) => {
          logger.error({ err }, 'the writer lost its place and stops');
          void writer?.close();
        },
        acknowledged: (sequence, timeTick) => streamEnd.observe({ sequence, timeTick }),
      });
      writer = new WalWriter(log, {
        ...options,
        channel: options.channel,
        ...(lastTimeTick === undefined ? {} : { lastTimeTick }),
      });
    }

    const useWriter = (): WalWriter => {
      if (closed) throw new ClosedError('WAL');
      if (log?.failure !== undefined) throw log.failure;
      if (writer === undefined)
        throw new ConfigError(
          'readOnly',
          true,
          'the WAL was opened read-only: it cannot be written',
        );
      return writer;
    };
    const guard = <T>(call: (w: WalWriter) => Promise<T>): Promise<T> => {
      try {
        return call(useWriter());
      } catch (err) {
        return Promise.reject(err);
      }
    };
    const wal: JetStreamWal = {
      channel: options.channel,
      stream: subjects.stream,
      payloadCodec: codec,
      connection: nc,
      accessMode: readOnly ? 'ro' : 'rw',
      get writeAheadBuffer(): WriteAheadBuffer | undefined {
        return writer?.writeAheadBuffer;
      },
      read,
      lastSequence: async () => BigInt((await jsm.streams.info(subjects.stream)).state.last_seq),
      logEnd: () => streamEnd.current(),
      refreshLogEnd: () => streamEnd.refresh(),
      append: <P>(m: AppendInit<P>) => guard((w) => w.append(m)),
      beginTxn: (o) =>
        guard(async (w) => {
          const txn = await w.beginTxn(o);
          const wrapped: WalTxn = {
            txnId: txn.txnId,
            begin: txn.begin,
            append: (m) => guard(() => txn.append(m)),
            commit: () => guard(() => txn.commit()),
            rollback: () => guard(() => txn.rollback()),
          };
          return wrapped;
        }),
      syncTimeTick: (o) => guard((w) => w.syncTimeTick(o)),
      async close() {
        if (closed) return;
        if (writer !== undefined && log?.failure === undefined) await writer.close();
        closed = true;
        streamEnd.close();
        log?.close();
        for (const reader of [...readers]) reader.closeWith();
        if (held.owned) await nc.close();
      },
    };
    if (writer !== undefined) {
      (wal as { requestPersistedTimeTick?: () => void }).requestPersistedTimeTick = () =>
        writer?.requestPersistedTimeTick();
    }
    return wal;
  } catch (err) {
    if (held.owned) await nc.close().catch(() => undefined);
    throw err;
  }
}

/** A read-only view for other code that wants only {@link ReadableWal}. */
export type ReadOnlyJetStreamWal = ReadableWal & { close(): Promise<void> };

function startOf(policy: DeliverPolicy): ReaderStart {
  switch (policy.kind) {
    case 'all':
      return { sequence: 1n };
    case 'latest':
      return 'latest';
    case 'startFrom':
      return { sequence: positionOf(policy.id) };
    case 'startAfter':
      return { sequence: positionOf(policy.id) + 1n };
  }
}

function positionOf(id: MessageId): bigint {
  const seq = sequenceOf(id);
  if (seq === undefined) throw new ConfigError('policy.id', id.key, 'is not an id of this WAL');
  return seq < 1n ? 1n : seq;
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if ((err as { name?: string })?.name === 'StreamNotFoundError') return undefined;
    const code = (err as { apiError?: () => { err_code?: number } }).apiError?.call(err).err_code;
    if (code === 10059) return undefined;
    throw err;
  }
}

function codecOf(info: StreamInfo, channel: string, given: PayloadCodec | undefined): PayloadCodec {
  const match = DESCRIPTION.exec(info.config.description ?? '');
  if (match === null || match[1] !== channel) {
    throw new ConfigError(
      'channel',
      channel,
      `stream ${info.config.name} exists but is not the rxwal log of this channel`,
    );
  }
  const stored = match[2] as string;
  if (given !== undefined) {
    if (given.name !== stored) {
      throw new ConfigError(
        'payloadCodec',
        given.name,
        `differs from the codec the log was created with ('${stored}')`,
      );
    }
    return given;
  }
  const builtIn = BUILT_IN_CODECS[stored];
  if (builtIn === undefined) {
    throw new ConfigError(
      'payloadCodec',
      undefined,
      `is required: the log was created with codec '${stored}'`,
    );
  }
  return builtIn;
}

/**
 * The newest tick in the stream, so a reopened writer's clock starts past it: the last time tick
 * and the last message (a batch cut by a failure may end after the last tick).
 */
async function lastTimeTickOf(
  jsm: JetStreamManager,
  stream: string,
  tickSubject: string,
  lastSequence: bigint,
  codec: PayloadCodec,
): Promise<bigint | undefined> {
  if (lastSequence === 0n) return undefined;
  let newest: bigint | undefined;
  const consider = (m: WalMessage): void => {
    if (newest === undefined || m.timeTick > newest) newest = m.timeTick;
  };
  const last = await jsm.streams.getMessage(stream, { seq: Number(lastSequence) });
  if (last !== null) consider(decodeRecord(last.data, BigInt(last.seq), codec));
  const tick = await jsm.streams
    .getMessage(stream, { last_by_subj: tickSubject })
    .catch(() => null);
  if (tick !== null) consider(decodeRecord(tick.data, BigInt(tick.seq), codec));
  return newest;
}

function positiveDuration(value: Duration, option: string): number {
  const ms = parseDuration(value, option);
  if (!(ms > 0) || !Number.isFinite(ms))
    throw new ConfigError(option, value, 'must be positive and finite');
  return ms;
}

function positiveInteger(value: number, option: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(option, value, 'must be a positive integer');
  }
  return value;
}
