/**
 * rxwal — a write-ahead log scanner as composable RxJS operators.
 *
 * @example
 * ```ts
 * import { filterVChannel, reorderUntilTick, txnBuffer } from 'rxwal';
 * wal$.pipe(filterVChannel('v1'), reorderUntilTick(), txnBuffer()).subscribe(apply);
 * ```
 * @packageDocumentation
 */
export {
  WalError,
  InvalidMessageError,
  ConfigError,
  CorruptRecordError,
  ClosedError,
  EvictedError,
  TxnExpiredError,
  FencedError,
} from './errors.js';
export type { Duration } from './internal/duration.js';

export { tso } from './message/tso.js';
export type { TimeTick } from './message/tso.js';
export { messageId } from './message/messageId.js';
export type { MessageId } from './message/messageId.js';
export { MessageType, isTxnMessage, isSystemMessageType } from './message/message.js';
export type { TxnContext, WalMessage, TxnMessage } from './message/message.js';
export { createMessage } from './message/createMessage.js';
export type { MessageInit } from './message/createMessage.js';
export { estimateSize } from './message/size.js';

export { DeliverPolicy } from './options/deliverPolicy.js';
export { DeliverFilter } from './options/deliverFilter.js';

export { filterMessages } from './operators/filterMessages.js';
export { filterVChannel } from './operators/filterVChannel.js';
export { reorderUntilTick } from './operators/reorderUntilTick.js';
export type { ReorderOptions } from './operators/reorderUntilTick.js';
export { txnBuffer } from './operators/txnBuffer.js';
export type { TxnBufferOptions } from './operators/txnBuffer.js';
export { pauseGate } from './operators/pauseGate.js';
export type { PauseGateOptions } from './operators/pauseGate.js';

export { noopMetrics, createInMemoryMetrics } from './observability/metrics.js';
export type {
  ScannerMetrics,
  ScannerModel,
  ScannerInfo,
  TxnOutcome,
  MetricsSnapshot,
  ScannerLag,
} from './observability/metrics.js';
export type { Logger } from './observability/logger.js';
export type { ObservedOptions } from './observability/observed.js';

export { pauseFromFile, PauseFileSubject } from './config/pauseFromFile.js';
export type { PauseFromFileOptions } from './config/pauseFromFile.js';

export { switchableSource } from './operators/switchableSource.js';
export type { SwitchableSourceOptions, FlowControl } from './operators/switchableSource.js';
export { scanWal } from './scanner/scanWal.js';
export {
  checkpointOf,
  encodeCheckpoint,
  decodeCheckpoint,
  CHECKPOINT_FORMAT_VERSION,
} from './checkpoint/checkpoint.js';
export type { Checkpoint } from './checkpoint/checkpoint.js';
export { memoryCheckpointStore } from './checkpoint/checkpointStore.js';
export type { CheckpointStore } from './checkpoint/checkpointStore.js';
export type { CheckpointOptions } from './checkpoint/autoSave.js';
export { resumeAfter } from './checkpoint/resumeAfter.js';
export type { ScanObservable, ScanOptions } from './scanner/scanWal.js';

export { createMemoryWal } from './wal/memoryWal.js';
export type { MemoryWal, MemoryWalOptions, RawMessageInit } from './wal/memoryWal.js';
export type {
  ReadableWal,
  WalReader,
  Wal,
  WalTxn,
  WalOptions,
  AppendInit,
  LogEnd,
  ReadHint,
} from './wal/wal.js';
export type {
  WriteAheadBuffer,
  WabReader,
  WriteAheadBufferOptions,
} from './wal/writeAheadBuffer.js';
export type { BackoffOptions } from './internal/backoff.js';

export { encodeRecord, decodeRecord, WIRE_FORMAT_VERSION } from './wire/record.js';
export { rawPayloadCodec, jsonPayloadCodec } from './wire/payloadCodec.js';
export type { PayloadCodec } from './wire/payloadCodec.js';
