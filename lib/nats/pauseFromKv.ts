import type { KV, KvEntry } from '@nats-io/kv';
import { BehaviorSubject } from 'rxjs';

import { ConfigError } from '../errors.js';
import { checkKvKey } from './subjects.js';
import { childLogger, type Logger } from '../observability/logger.js';
import { holdConnection, type NatsConnectionOptions } from './connection.js';
import { loadKvModule, loadNatsModules } from './modules.js';

/** Options of {@link pauseFromKv}. */
export interface PauseFromKvOptions extends NatsConnectionOptions {
  /** The KV bucket (created with one history entry if missing). */
  bucket: string;
  /** The key holding `{"pauseConsumption": true}` or `false`. */
  key: string;
  /** Invalid values are logged at `error`; default silent. */
  logger?: Logger;
  /** The state when the key holds an invalid value at the first read; default `true`. */
  initial?: boolean;
}

/**
 * The pause switch {@link pauseFromKv} returns: a `BehaviorSubject<boolean>` following a KV key
 * until `close()`.
 *
 * @example
 * ```ts
 * const pause$: PauseKvSubject = await pauseFromKv({ servers, bucket: 'rxwal', key: 'pause' });
 * scanWal(wal, { pause$ }).subscribe(apply);
 * await pause$.close();
 * ```
 */
export class PauseKvSubject extends BehaviorSubject<boolean> {
  private readonly stop: () => Promise<void>;

  /** @internal use {@link pauseFromKv} */
  constructor(initial: boolean, stop: () => Promise<void>) {
    super(initial);
    this.stop = stop;
  }

  /**
   * Releases the watcher (and the connection, when the switch opened it) and completes the
   * subject. Idempotent.
   *
   * @example
   * ```ts
   * await pause$.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.isStopped) return;
    this.complete();
    await this.stop();
  }
}

/**
 * A cluster-wide pause switch: follows a JetStream KV key holding the same JSON as the pause file,
 * `{"pauseConsumption": true}`, so one write holds or releases every paused scanner of a cluster
 * (like the reference's dynamic config). A deleted or purged key means not paused; an invalid
 * value is logged and keeps the current state.
 *
 * @example
 * ```ts
 * import { scanWal } from 'rxwal';
 * import { pauseFromKv } from 'rxwal/nats';
 *
 * const pause$ = await pauseFromKv({ servers: 'nats://127.0.0.1:4222', bucket: 'rxwal', key: 'pause' });
 * scanWal(wal, { pause$, pauseMode: 'live' }).subscribe(apply);
 * // elsewhere: nats kv put rxwal pause '{"pauseConsumption": false}'
 * ```
 */
export async function pauseFromKv(options: PauseFromKvOptions): Promise<PauseKvSubject> {
  await Promise.resolve();
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object');
  }
  const { bucket, key } = options;
  if (typeof bucket !== 'string' || !/^[A-Za-z0-9_-]+$/.test(bucket)) {
    throw new ConfigError('bucket', bucket, 'must be a KV bucket name (letters, digits, _ and -)');
  }
  checkKvKey(key);
  const initial = options.initial ?? true;
  if (typeof initial !== 'boolean') throw new ConfigError('initial', initial, 'must be a boolean');
  const logger = childLogger(options.logger, { component: 'pauseFromKv', bucket, key });
  const [modules, kvModule] = await Promise.all([loadNatsModules(), loadKvModule()]);
  const held = await holdConnection(modules, options);
  try {
    const kv: KV = await new kvModule.Kvm(held.connection).create(bucket, { history: 1 });
    const watcher = await kv.watch({ key });
    const first = await kv.get(key);
    const firstRead = first === null ? { paused: false } : readSwitch(first);
    if ('reason' in firstRead) {
      logger.error({ reason: firstRead.reason }, 'invalid pause value; keeping the initial state');
    }
    const subject = new PauseKvSubject(
      'paused' in firstRead ? firstRead.paused : initial,
      async () => {
        watcher.stop();
        if (held.owned) await held.connection.close();
      },
    );
    void (async () => {
      for await (const entry of watcher) {
        if (subject.isStopped) break;
        const read = readSwitch(entry);
        if ('reason' in read) {
          logger.error(
            { reason: read.reason, revision: entry.revision },
            'invalid pause value; keeping the current state',
          );
          continue;
        }
        if (read.paused !== subject.value) subject.next(read.paused);
      }
    })().catch((err: unknown) => logger.error({ err }, 'pause watcher failed'));
    return subject;
  } catch (err) {
    if (held.owned) await held.connection.close().catch(() => undefined);
    throw err;
  }
}

/** A KV entry as a switch: deleted means not paused; anything but `{pauseConsumption: boolean}` is invalid. */
function readSwitch(entry: KvEntry): { paused: boolean } | { reason: string } {
  if (entry.operation !== 'PUT') return { paused: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.string());
  } catch (err) {
    return { reason: `not JSON: ${(err as Error).message}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { reason: 'must be a JSON object' };
  }
  const paused = (parsed as Record<string, unknown>).pauseConsumption;
  if (typeof paused !== 'boolean') {
    return {
      reason: `pauseConsumption must be true or false (got ${JSON.stringify(paused) ?? 'nothing'})`,
    };
  }
  return { paused };
}
