import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';

import { ClosedError, ConfigError, WalError } from '../errors.js';
import { MessageType, type WalMessage } from '../message/message.js';
import { Waiters } from '../internal/waiters.js';
import { checkDeliverPolicy, DeliverPolicy } from '../options/deliverPolicy.js';
import type { ReadableWal, WalReader } from '../wal/wal.js';
import { MemoryWriteAheadBuffer, type WriteAheadBuffer } from '../wal/writeAheadBuffer.js';
import { parseWalMessage } from './notation.js';

/**
 * What a key of a {@link scriptedWal} script stands for: a message, a message in the notation of
 * {@link parseWalMessage}, or an `Error` the next read fails with.
 *
 * @example
 * ```ts
 * const values: Record<string, ScriptedValue> = { a: 'ins v1 @2', t: 'tt @3', x: new Error('EIO') };
 * ```
 */
export type ScriptedValue = WalMessage | string | Error;

/**
 * Options of {@link scriptedWal}.
 *
 * @example
 * ```ts
 * scriptedWal('(abt)', values, { writeAheadBuffer: true, scheduler: clock.scheduler });
 * ```
 */
export interface ScriptedWalOptions {
  /** The pchannel name; default `'scripted'`. */
  channel?: string;
  /**
   * Give the WAL a write-ahead buffer, as a writer's own process has: it starts at the script's
   * first time tick and is fed one round per time tick, so scanners switch to tailing. Default
   * `false` (catch-up only).
   */
  writeAheadBuffer?: boolean;
  /** Default `'rw'` with a write-ahead buffer, `'ro'` without. */
  accessMode?: 'rw' | 'ro';
  /** Plays the script; default `asyncScheduler` (real time). Pass `VirtualClock.scheduler`. */
  scheduler?: SchedulerLike;
  /** The error of a `#` mark; default `new Error('scripted read error')`. */
  error?: Error;
  /** Messages a read returns at most, whatever the caller asks for; default no limit. */
  maxBatch?: number;
}

/**
 * One `read()` call of a {@link ScriptedWal}: when (virtual ms since creation) and from where.
 *
 * @example
 * ```ts
 * wal.reads.map((read) => read.at); // [0, 112.5]: a failed read and its retry
 * ```
 */
export interface ScriptedRead {
  /** The virtual time of the read (`scheduler.now()`). */
  readonly at: number;
  /** The deliver policy the reader was opened with. */
  readonly policy: DeliverPolicy;
}

/**
 * The WAL {@link scriptedWal} returns: a `ReadableWal` that records its reads.
 *
 * @example
 * ```ts
 * const wal: ScriptedWal = scriptedWal('a', { a: 'tt @1' });
 * wal.log.length; // 1
 * wal.close();
 * ```
 */
export interface ScriptedWal extends ReadableWal {
  /** Every `read()` call so far, in order: a scanner's retries show up here with their times. */
  readonly reads: readonly ScriptedRead[];
  /** The messages in the log so far (not-persisted ticks excluded: they are buffer-only). */
  readonly log: readonly WalMessage[];
  /** Stops the script and closes the readers and the buffer ({@link ClosedError}). Idempotent. */
  close(): void;
}

type ScriptEvent =
  | { readonly kind: 'message'; readonly message: WalMessage; readonly key: string }
  | { readonly kind: 'fail'; readonly error: Error }
  | { readonly kind: 'end' }
  | { readonly kind: 'evict' };

interface Frame {
  readonly at: number;
  readonly events: ScriptEvent[];
}

type Fault = { readonly kind: 'fail'; readonly error: Error } | { readonly kind: 'end' };

const TIME_PROGRESSION = /^(\d+(?:\.\d+)?)(ms|s|m)(?=\s|$)/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000 };
/** Buffer entries live this long per eviction epoch; a `!` moves the buffer's clock one epoch on. */
const EPOCH_MS = 1e12;

/**
 * A `ReadableWal` for tests whose log and faults are a marble-like script played on a scheduler,
 * so a test reproduces a catch-up → tailing switch, an eviction fallback or a read-error retry in
 * a few lines, deterministically, in virtual time ({@link VirtualClock}).
 *
 * The script reads like an rxjs marble diagram, time 0 being the call of `scriptedWal`:
 *
 * | mark | meaning |
 * |---|---|
 * | `-` | one virtual millisecond passes |
 * | `a`–`z`, `A`–`Z`, `0`–`9`, … | a key of `values`: a message is appended to the log (an `Error`: as `#` with that error) |
 * | `(ab)` | everything inside happens in the same millisecond (the group then takes its length, as in rxjs) |
 * | `10ms`, `1.5s`, `2m` | time passes (between spaces, as in rxjs) |
 * | `#` | the **next read fails** with `options.error` (default `Error('scripted read error')`) |
 * | `\|` | the **reader's stream ends**: the next read returns an empty batch |
 * | `!` | the **write-ahead buffer evicts** everything it holds but its newest entry |
 * | space | nothing (layout) |
 *
 * - A value is a `WalMessage`, a string in the notation of {@link parseWalMessage} (without
 *   `#<id>` it takes the id after the last message in the log, so a script reads like a log), or
 *   an `Error`. Ids must not decrease along the log; a key used twice appends the same message
 *   twice (a duplicate).
 * - `#` and `|` hit the next `next()` of whichever log reader calls it (a read already waiting
 *   included), once; a reader that failed keeps failing and one that ended keeps ending, as a
 *   broken stream does, until the scanner opens a new one.
 * - With `writeAheadBuffer: true` the WAL has the buffer of a writer's process (a real
 *   `MemoryWriteAheadBuffer`), present from the first time tick of the script on. Each time tick
 *   closes a round: the data messages since the last tick, sorted by tick, then the tick. A
 *   not-persisted tick (`tt @5 np`) goes only to the buffer, never to the log. A round the
 *   buffer cannot take (ticks out of order, equal data ticks) is a `ConfigError` at once.
 * - `!` evicts up to the newest entry: a tailing reader still behind it gets `EvictedError`, and
 *   joining at an older tick fails, so a scanner falls back to catch-up.
 * - Bad scripts (an unknown key, an unbalanced group, `!` without a buffer) throw `ConfigError`
 *   naming the script and the position.
 *
 * @param script the marble-like script
 * @param values what the keys of `script` stand for
 * @param options buffer, access mode, scheduler, channel, the `#` error, a batch limit
 * @returns a {@link ScriptedWal}: a `ReadableWal` with `reads`, `log` and `close()`
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * // at 0 ms the first read fails and three messages are in the log; at 10 ms two more arrive
 * const wal = scriptedWal(
 *   '(#abt) 5ms (cs)',
 *   { a: 'ins v1 @2', b: 'ins v1 @1', t: 'tt @3', c: 'ins v1 @4', s: 'tt @5' },
 *   { writeAheadBuffer: true, scheduler: clock.scheduler },
 * );
 * scanWal(wal, { scheduler: clock.scheduler }).subscribe(console.log);
 * await clock.advance(500);
 * wal.reads.map((r) => r.at); // [0, 50…150]: the failed read, then its retry after backoff
 * ```
 */
export function scriptedWal(
  script: string,
  values: Readonly<Record<string, ScriptedValue>> = {},
  options: ScriptedWalOptions = {},
): ScriptedWal {
  if (typeof script !== 'string') throw new ConfigError('script', script, 'must be a string');
  if (typeof values !== 'object' || values === null) {
    throw new ConfigError('values', values, 'must be an object of messages, notations or errors');
  }
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object');
  }
  const channel = options.channel ?? 'scripted';
  if (typeof channel !== 'string' || channel === '') {
    throw new ConfigError('channel', channel, 'must be a non-empty string');
  }
  const withBuffer = options.writeAheadBuffer ?? false;
  if (typeof withBuffer !== 'boolean') {
    throw new ConfigError('writeAheadBuffer', withBuffer, 'must be true or false');
  }
  const accessMode = options.accessMode ?? (withBuffer ? 'rw' : 'ro');
  if (accessMode !== 'rw' && accessMode !== 'ro') {
    throw new ConfigError('accessMode', accessMode, "must be 'rw' or 'ro'");
  }
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof scheduler?.schedule !== 'function' || typeof scheduler.now !== 'function') {
    throw new ConfigError('scheduler', scheduler, 'must be a SchedulerLike');
  }
  const defaultError = options.error ?? new Error('scripted read error');
  if (!(defaultError instanceof Error)) {
    throw new ConfigError('error', defaultError, 'must be an Error');
  }
  const maxBatch = options.maxBatch ?? Infinity;
  if (maxBatch !== Infinity && (!Number.isSafeInteger(maxBatch) || maxBatch <= 0)) {
    throw new ConfigError('maxBatch', maxBatch, 'must be a positive integer');
  }

  const frames = parseScript(script, values, defaultError);
  checkAgainstBuffer(script, frames, withBuffer);
  return new Scripted(channel, accessMode, withBuffer, scheduler, frames, maxBatch);
}

/** Splits the script into frames of events, parsing each value once, ids along the log. */
function parseScript(
  script: string,
  values: Readonly<Record<string, ScriptedValue>>,
  defaultError: Error,
): Frame[] {
  const frames: Frame[] = [];
  const parsed = new Map<string, WalMessage>();
  let lastId: WalMessage['id'] | undefined;
  let lastSequence = 0n;
  let time = 0;
  let groupStart: number | undefined;
  const fail = (position: number, reason: string): never => {
    throw new ConfigError('script', script, `${reason} at position ${position}`);
  };
  const at = (): ScriptEvent[] => {
    const when = groupStart ?? time;
    let frame = frames[frames.length - 1];
    if (frame?.at !== when) {
      frame = { at: when, events: [] };
      frames.push(frame);
    }
    return frame.events;
  };
  const messageFor = (key: string, position: number): WalMessage => {
    const known = parsed.get(key);
    if (known !== undefined) return known;
    const value = values[key];
    let message: WalMessage;
    if (typeof value === 'string') {
      try {
        message = parseWalMessage(value, lastSequence + 1n);
      } catch (error) {
        return fail(position, `key ${JSON.stringify(key)}: ${(error as Error).message}`);
      }
    } else {
      message = value as WalMessage;
    }
    parsed.set(key, message);
    return message;
  };

  for (let i = 0; i < script.length;) {
    const char = script[i] as string;
    if (/\s/.test(char)) {
      const progression = TIME_PROGRESSION.exec(script.slice(i + 1));
      if (progression !== null && groupStart === undefined) {
        time += Number(progression[1]) * (UNIT_MS[progression[2] as string] as number);
        i += 1 + progression[0].length;
      } else {
        i++;
      }
      continue;
    }
    if (char === '(') {
      if (groupStart !== undefined) fail(i, 'a group inside a group');
      groupStart = time;
    } else if (char === ')') {
      if (groupStart === undefined) fail(i, 'a ")" without its "("');
      groupStart = undefined;
    } else if (char === '#') {
      at().push({ kind: 'fail', error: defaultError });
    } else if (char === '|') {
      at().push({ kind: 'end' });
    } else if (char === '!') {
      at().push({ kind: 'evict' });
    } else if (char !== '-') {
      const value = values[char];
      if (value === undefined) fail(i, `the key ${JSON.stringify(char)} is not in values`);
      if (value instanceof Error) {
        at().push({ kind: 'fail', error: value });
      } else if (typeof value === 'string' || isMessageLike(value)) {
        const message = messageFor(char, i);
        if (lastId !== undefined && message.id.compare(lastId) < 0 && message.persisted) {
          fail(i, `message ${JSON.stringify(char)} has id ${message.id} below ${lastId}`);
        }
        if (message.persisted) {
          lastId = message.id;
          if (/^\d+$/.test(message.id.key)) lastSequence = BigInt(message.id.key);
        }
        at().push({ kind: 'message', message, key: char });
      } else {
        fail(i, `the value of ${JSON.stringify(char)} is not a message, a notation or an Error`);
      }
    }
    time++;
    i++;
  }
  if (groupStart !== undefined) fail(script.length, 'a "(" without its ")"');
  return frames;
}

function isMessageLike(value: unknown): value is WalMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as WalMessage).type === 'string' &&
    typeof (value as WalMessage).timeTick === 'bigint'
  );
}

/** Plays the whole script into a throwaway buffer now, so a bad round fails at the call. */
function checkAgainstBuffer(script: string, frames: readonly Frame[], withBuffer: boolean): void {
  const feed = new BufferFeed(asyncScheduler);
  for (const frame of frames) {
    for (const event of frame.events) {
      const problem = (reason: string): ConfigError =>
        new ConfigError('script', script, `${reason} at ${frame.at} ms`);
      if (event.kind === 'evict') {
        if (!withBuffer) throw problem('"!" (evict) needs writeAheadBuffer: true');
        if (feed.buffer === undefined) throw problem('"!" (evict) before the first time tick');
      }
      if (event.kind !== 'message') continue;
      if (!event.message.persisted && !withBuffer) {
        throw problem(
          `${JSON.stringify(event.key)} is a not-persisted time tick, which only a write-ahead buffer holds (writeAheadBuffer: true)`,
        );
      }
      if (!withBuffer) continue;
      try {
        feed.add(event.message);
      } catch (error) {
        if (!(error instanceof WalError)) throw error;
        throw problem(
          `${JSON.stringify(event.key)} cannot go to the write-ahead buffer (${error.message})`,
        );
      }
    }
  }
}

/**
 * Feeds a real write-ahead buffer the way a writer does: one round per time tick. Its clock
 * moves only at `!`, one epoch each, so entries are evicted exactly there.
 */
class BufferFeed {
  buffer: MemoryWriteAheadBuffer | undefined;
  private round: WalMessage[] = [];
  private epoch = 0;
  private readonly bufferScheduler: SchedulerLike;

  constructor(scheduler: SchedulerLike) {
    // the buffer reads only now(); its timers, were there any, would run on the script's scheduler
    this.bufferScheduler = {
      now: () => this.epoch * EPOCH_MS,
      schedule: scheduler.schedule.bind(scheduler) as SchedulerLike['schedule'],
    };
  }

  add(message: WalMessage): void {
    if (message.type !== MessageType.TimeTick) {
      if (this.buffer !== undefined) this.round.push(message);
      return;
    }
    if (this.buffer === undefined) {
      this.buffer = new MemoryWriteAheadBuffer(message, {
        scheduler: this.bufferScheduler,
        keepalive: EPOCH_MS,
        capacity: Number.MAX_SAFE_INTEGER,
      });
      return;
    }
    const round = this.round.sort((a, b) =>
      a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0,
    );
    this.round = [];
    this.buffer.append(round, message);
  }

  evict(): void {
    this.epoch++;
    this.buffer?.evict();
  }

  close(): void {
    this.buffer?.close();
  }
}

class Scripted implements ScriptedWal {
  readonly reads: ScriptedRead[] = [];
  readonly log: WalMessage[] = [];
  /** Faults not yet taken by a read, oldest first. */
  readonly faults: Fault[] = [];
  readonly waiters = new Waiters();
  closed = false;
  private readonly feed: BufferFeed | undefined;
  private readonly startedAt: number;
  private next = 0;
  private timer: Subscription | undefined;

  constructor(
    readonly channel: string,
    readonly accessMode: 'rw' | 'ro',
    withBuffer: boolean,
    private readonly scheduler: SchedulerLike,
    private readonly frames: readonly Frame[],
    readonly maxBatch: number,
  ) {
    this.feed = withBuffer ? new BufferFeed(scheduler) : undefined;
    this.startedAt = scheduler.now();
    this.play();
  }

  get writeAheadBuffer(): WriteAheadBuffer | undefined {
    return this.feed?.buffer;
  }

  read(policy: DeliverPolicy): WalReader {
    if (this.closed) throw new ClosedError('scripted WAL');
    checkDeliverPolicy(policy, 'policy');
    this.reads.push({ at: this.scheduler.now() - this.startedAt, policy });
    let start: number;
    let resolvedPolicy = policy;
    switch (policy.kind) {
      case 'all':
        start = 0;
        break;
      case 'latest': {
        start = this.log.length;
        const last = this.log[start - 1];
        resolvedPolicy =
          last === undefined ? DeliverPolicy.all() : DeliverPolicy.startAfter(last.id);
        break;
      }
      case 'startFrom':
      case 'startAfter': {
        const after = policy.kind === 'startAfter';
        const found = this.log.findIndex((m) => {
          const order = m.id.compare(policy.id);
          return after ? order > 0 : order >= 0;
        });
        start = found === -1 ? this.log.length : found;
        break;
      }
    }
    return new ScriptedReader(this, start, resolvedPolicy);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.feed?.close();
    this.waiters.wakeAll();
  }

  /** Runs every frame that is due, then schedules the next one. */
  private play(): void {
    this.timer = undefined;
    const elapsed = this.scheduler.now() - this.startedAt;
    while (!this.closed && this.next < this.frames.length) {
      const frame = this.frames[this.next] as Frame;
      if (frame.at > elapsed) {
        this.timer = this.scheduler.schedule(() => this.play(), frame.at - elapsed);
        return;
      }
      this.next++;
      for (const event of frame.events) this.apply(event);
      this.waiters.wakeAll();
    }
  }

  private apply(event: ScriptEvent): void {
    switch (event.kind) {
      case 'message':
        // the buffer first: a reader handed this tick from the log can join the buffer at it
        this.feed?.add(event.message);
        if (event.message.persisted) this.log.push(event.message);
        break;
      case 'fail':
        this.faults.push({ kind: 'fail', error: event.error });
        break;
      case 'end':
        this.faults.push({ kind: 'end' });
        break;
      case 'evict':
        this.feed?.evict();
        break;
    }
  }
}

const ENDED: readonly WalMessage[] = Object.freeze([]);

class ScriptedReader implements WalReader {
  private closed = false;
  private broken: Fault | undefined;
  private waiter: (() => void) | undefined;

  constructor(
    private readonly wal: Scripted,
    private index: number,
    readonly resolvedPolicy: DeliverPolicy,
  ) {}

  async next(maxMessages = Infinity): Promise<readonly WalMessage[]> {
    if (maxMessages !== Infinity && (!Number.isSafeInteger(maxMessages) || maxMessages <= 0)) {
      throw new ConfigError('maxMessages', maxMessages, 'must be a positive integer');
    }
    for (;;) {
      if (this.closed) throw new ClosedError('scripted WAL reader');
      if (this.wal.closed) throw new ClosedError('scripted WAL');
      this.broken ??= this.wal.faults.shift();
      if (this.broken?.kind === 'fail') throw this.broken.error;
      if (this.broken?.kind === 'end') return ENDED;
      const count = Math.min(maxMessages, this.wal.maxBatch);
      const batch = this.wal.log.slice(this.index, this.index + count);
      if (batch.length > 0) {
        this.index += batch.length;
        return batch;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        this.wal.waiters.add(resolve);
      });
      this.waiter = undefined;
    }
  }

  close(): void {
    this.closed = true;
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.wal.waiters.delete(waiter);
    waiter();
  }
}
