import { ConfigError, InvalidMessageError } from '../errors.js';
import { isSystemMessageType } from '../message/message.js';
import { parseDuration } from '../internal/duration.js';
import type { AppendInit } from '../wal/wal.js';
import { choiceOption, parseCommandArgs, stringOption, walPath } from './args.js';
import type { CliDeps, CliWal, NatsCredentials } from './deps.js';
import { ExitCode, InvalidInputError, UsageError } from './errors.js';
import { NATS_CLI_OPTIONS, natsCredentialsOf } from './natsLocation.js';
import { APPEND_HELP } from './help.js';
import { isWellFormed } from '../wire/utf8.js';
import { LineWriter } from './output.js';

const APPEND_OPTIONS = {
  txn: { type: 'boolean' },
  vchannel: { type: 'string' },
  keepalive: { type: 'string' },
  'payload-codec': { type: 'string' },
  ...NATS_CLI_OPTIONS,
} as const;

/** Appends issued together are written as one batch by the writer. */
const APPEND_BATCH = 256;

interface AppendPlan {
  path: string;
  nats: NatsCredentials | undefined;
  txn: boolean;
  vchannel: string | undefined;
  keepalive: string | undefined;
  payloadCodec: 'raw' | 'json' | undefined;
}

function parseAppendArgs(argv: string[]): AppendPlan | 'help' {
  const args = parseCommandArgs('append', argv, APPEND_OPTIONS);
  if (args.values.help === true) return 'help';
  const keepalive = stringOption(args.values, 'keepalive');
  if (keepalive !== undefined) {
    if (args.values.txn !== true) {
      throw new UsageError('append: --keepalive applies to --txn only', 'append');
    }
    try {
      parseDuration(keepalive, '--keepalive', { allowInfinity: true });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new UsageError(`append: ${err.message}`, 'append');
    }
  }
  const path = walPath('append', args.positionals);
  return {
    path,
    nats: natsCredentialsOf('append', args.values, path),
    txn: args.values.txn === true,
    vchannel: stringOption(args.values, 'vchannel'),
    keepalive,
    payloadCodec:
      stringOption(args.values, 'payload-codec') === undefined
        ? undefined
        : choiceOption<'raw' | 'json'>(
            'append',
            args.values,
            'payload-codec',
            ['raw', 'json'],
            'raw',
          ),
  };
}

/**
 * `rxwal append <wal>`: one message per JSON line of stdin; prints each appended message's id.
 * With `--txn` all lines are checked first and appended in one transaction.
 */
export async function appendCommand(argv: string[], deps: CliDeps): Promise<ExitCode> {
  const plan = parseAppendArgs(argv);
  if (plan === 'help') {
    deps.stdout.write(APPEND_HELP);
    return ExitCode.Ok;
  }
  const out = new LineWriter(deps.stdout);
  const wal = await deps.openWal(plan.path, {
    readOnly: false,
    ...(plan.payloadCodec === undefined ? {} : { payloadCodec: plan.payloadCodec }),
    ...(plan.nats === undefined ? {} : { nats: plan.nats }),
  });
  const input = new LineReader(deps.stdin, deps.signal);
  let failure: { error: unknown } | undefined;
  let wrote = false;
  const written = (): void => void (wrote = true);
  try {
    if (plan.txn) await appendTxn(wal, plan, input, deps, out, written);
    else await appendEach(wal, plan, input, out, written);
  } catch (error) {
    failure = { error };
  }
  try {
    // a scan releases what is below a time tick: write one now, also after a bad line
    if (wrote) await wal.syncTimeTick();
  } catch (error) {
    failure ??= { error };
  }
  try {
    await wal.close();
  } catch (error) {
    failure ??= { error };
  }
  if (failure !== undefined) throw failure.error;
  if (input.stopped) {
    deps.stderr.write(
      plan.txn && !wrote
        ? 'rxwal: stopped by a signal before the end of stdin: nothing appended\n'
        : 'rxwal: stopped by a signal: the lines after the last id printed were not appended\n',
    );
  }
  return ExitCode.Ok;
}

async function appendEach(
  wal: CliWal,
  plan: AppendPlan,
  input: LineReader,
  out: LineWriter,
  written: () => void,
): Promise<void> {
  let batch: Promise<{ id: { key: string } }>[] = [];
  let failed = false;
  let wakeOnFailure: () => void = () => undefined;
  /** Settles when an append in flight fails, so that a read waiting on stdin stops at once. */
  const failure = new Promise<void>((resolve) => (wakeOnFailure = resolve));
  /** Prints the ids of the batch's appends in order, up to the first that failed, and throws that. */
  const flush = async (): Promise<void> => {
    const settled = await Promise.allSettled(batch);
    batch = [];
    for (const result of settled) {
      if (result.status === 'rejected') throw result.reason;
      await out.line(result.value.id.key);
    }
  };
  for (;;) {
    // nothing more to read at once: report what was appended before waiting on stdin
    if (!input.hasLine) await flush();
    const next = await input.next(failure);
    if (next === undefined) break; // the end of stdin, a stop signal, or a failed append
    const { line, text } = next;
    let init: AppendInit;
    try {
      init = parseMessageLine(text, line, payloadCodecOf(wal));
    } catch (err) {
      await flush(); // the lines before it are appended and reported
      throw err;
    }
    if (init.vchannel === undefined && plan.vchannel !== undefined) init.vchannel = plan.vchannel;
    written();
    const raw = wal.append(init);
    const appended = raw.catch((err: unknown) => {
      throw err instanceof InvalidMessageError ? new InvalidInputError(line, err.message) : err;
    });
    // observed at once: a write failing while stdin is idle ends the command, not the process
    appended.catch(() => {
      failed = true;
      wakeOnFailure();
    });
    batch.push(appended);
    // A line the WAL refuses at once (bad input) has rejected already: stop before the next one.
    await Promise.race([raw, ALREADY]).catch(() => void (failed = true));
    if (failed) break;
    if (batch.length >= APPEND_BATCH) await flush();
  }
  await flush();
}

/** Settled: a race against it tells whether another promise had already settled. */
const ALREADY = Promise.resolve();

async function appendTxn(
  wal: CliWal,
  plan: AppendPlan,
  input: LineReader,
  deps: CliDeps,
  out: LineWriter,
  written: () => void,
): Promise<void> {
  // Every line is read and checked before the begin: a bad line writes nothing.
  const messages: { line: number; init: AppendInit }[] = [];
  for (let next = await input.next(); next !== undefined; next = await input.next()) {
    messages.push({
      line: next.line,
      init: parseMessageLine(next.text, next.line, payloadCodecOf(wal)),
    });
  }
  if (input.stopped) return; // stopped before the end of the input: no transaction
  if (messages.length === 0) throw new InvalidInputError(0, '--txn needs at least one message');
  const vchannel = plan.vchannel ?? commonVChannel(messages);
  for (const { line, init } of messages) {
    if (init.vchannel !== undefined && init.vchannel !== vchannel) {
      throw new InvalidInputError(
        line,
        `vchannel ${JSON.stringify(init.vchannel)} is not the transaction's (${JSON.stringify(vchannel)})`,
      );
    }
  }
  written();
  // From here a stop signal lets the transaction finish: its input is complete and checked.
  const txn = await wal.beginTxn({
    vchannel,
    ...(plan.keepalive === undefined ? {} : { keepalive: plan.keepalive }),
  });
  const bodies: { key: string }[] = [];
  try {
    for (const { line, init } of messages) {
      const { vchannel: _ignored, ...rest } = init;
      try {
        bodies.push((await txn.append(rest)).id);
      } catch (err) {
        throw err instanceof InvalidMessageError ? new InvalidInputError(line, err.message) : err;
      }
    }
  } catch (err) {
    await txn.rollback().catch(() => undefined); // the append already failed; report that
    throw err;
  }
  const commit = await txn.commit();
  for (const id of bodies) await out.line(id.key);
  deps.stderr.write(
    `rxwal: committed transaction ${txn.txnId} on ${JSON.stringify(vchannel)}: ` +
      `${bodies.length} messages, begin #${txn.begin.id.key}, commit #${commit.id.key}\n`,
  );
}

function commonVChannel(messages: readonly { line: number; init: AppendInit }[]): string {
  const named = new Set(messages.map((m) => m.init.vchannel).filter((v) => v !== undefined));
  if (named.size === 1) return [...named][0] as string;
  throw new UsageError(
    named.size === 0
      ? 'append: --txn needs a vchannel: give --vchannel or a "vchannel" in the lines'
      : `append: the lines name ${named.size} vchannels; a transaction has one (give --vchannel)`,
    'append',
  );
}

/** The name of the codec the WAL stores payloads with; undefined: any value (a memory WAL). */
function payloadCodecOf(wal: CliWal): string | undefined {
  return wal.payloadCodec?.name;
}

/**
 * One line of input as an append: `type` (a data type), optional `vchannel`, `properties`
 * (strings) and one of `payload` (any JSON), `payloadText` (a string; UTF-8 bytes in a log storing
 * raw bytes) or `payloadBase64` (bytes). For a log storing raw bytes, a string `payload` is
 * stored as its UTF-8 bytes and any other JSON value as its JSON text.
 */
export function parseMessageLine(
  text: string,
  line: number,
  codec: string | undefined,
): AppendInit {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(line, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(line, 'must be a JSON object with a "type"');
  }
  const record = value as Record<string, unknown>;
  const known = new Set([
    'type',
    'vchannel',
    'payload',
    'payloadText',
    'payloadBase64',
    'properties',
  ]);
  const unknown = Object.keys(record).find((key) => !known.has(key));
  if (unknown !== undefined) {
    throw new InvalidInputError(line, `unknown field ${JSON.stringify(unknown)}`);
  }
  const { type, vchannel, properties } = record;
  if (typeof type !== 'string' || type === '') {
    throw new InvalidInputError(line, '"type" must be a non-empty string');
  }
  // A string UTF-8 cannot hold would be stored as U+FFFD (a payload) or refused by the log later
  // (a vchannel in a transaction, after its begin): refuse the line now, whatever the field.
  const malformed = malformedString(record);
  if (malformed !== undefined) {
    throw new InvalidInputError(
      line,
      `${malformed} holds a lone surrogate: it is not valid Unicode and UTF-8 cannot store it`,
    );
  }
  if (isSystemMessageType(type)) {
    throw new InvalidInputError(line, `"type" ${type} is a system type: the writer writes those`);
  }
  const init: AppendInit = { type };
  if (vchannel !== undefined) {
    if (typeof vchannel !== 'string')
      throw new InvalidInputError(line, '"vchannel" must be a string');
    init.vchannel = vchannel;
  }
  if (properties !== undefined) init.properties = parseProperties(properties, line);
  const payload = parsePayload(record, line, codec);
  if (payload !== undefined) init.payload = payload;
  return init;
}

function parseProperties(value: unknown, line: number): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(line, '"properties" must be an object of strings');
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new InvalidInputError(line, `"properties".${key} must be a string`);
    }
  }
  return value as Record<string, string>;
}

function parsePayload(
  record: Record<string, unknown>,
  line: number,
  codec: string | undefined,
): unknown {
  const { payload, payloadText, payloadBase64 } = record;
  const given = [payload, payloadText, payloadBase64].filter((p) => p !== undefined).length;
  if (given > 1) {
    throw new InvalidInputError(line, 'give one of "payload", "payloadText" and "payloadBase64"');
  }
  if (payloadText !== undefined) {
    if (typeof payloadText !== 'string') {
      throw new InvalidInputError(line, '"payloadText" must be a string');
    }
    return codec === 'raw' ? Buffer.from(payloadText, 'utf8') : payloadText;
  }
  if (payloadBase64 !== undefined) {
    if (typeof payloadBase64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(payloadBase64)) {
      throw new InvalidInputError(line, '"payloadBase64" must be a base64 string');
    }
    if (codec !== undefined && codec !== 'raw') {
      throw new InvalidInputError(
        line,
        `"payloadBase64" needs a log storing raw bytes; this one uses the ${codec} payload codec`,
      );
    }
    return Buffer.from(payloadBase64, 'base64');
  }
  if (payload === undefined || codec !== 'raw') return payload;
  return Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
}

/**
 * Where `record` (a parsed line) holds a string or a key with a lone surrogate, as
 * `"payload".a[2]`; undefined when every string is well-formed. Walks with its own stack: a
 * deeply nested payload cannot overflow the call stack.
 */
export function malformedString(record: Record<string, unknown>): string | undefined {
  const stack: { value: unknown; path: string }[] = [];
  for (const key of Object.keys(record))
    stack.push({ value: record[key], path: JSON.stringify(key) });
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: string };
    if (typeof value === 'string') {
      if (!isWellFormed(value)) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], path: `${path}[${i}]` });
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        const at = `${path}.${isWellFormed(key) ? key : JSON.stringify(key)}`;
        if (!isWellFormed(key)) return at;
        stack.push({ value: (value as Record<string, unknown>)[key], path: at });
      }
    }
  }
  return undefined;
}

const NEWLINE = 0x0a;

/**
 * The non-empty lines of stdin, numbered from 1, read until its end or a stop signal. Lines are
 * split on bytes (a newline byte never occurs inside a UTF-8 sequence) and each is decoded on
 * its own, strictly: invalid UTF-8 is refused naming its line, and a line of any length costs
 * time linear in its size.
 */
export class LineReader {
  private readonly chunks: AsyncIterator<string | Uint8Array>;
  private readonly stop: Promise<void>;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** Complete lines read but not returned yet, in order; a line that is not UTF-8 ends them. */
  private readonly ready: ({ line: number; text: string } | InvalidInputError)[] = [];
  /** The start of the line being read: the rest of earlier chunks. */
  private readonly partial: Uint8Array[] = [];
  private line = 0;
  private ended = false;
  private signalled = false;
  /** The read in progress, kept across calls that returned early; `settled` once it has. */
  private reading:
    { chunk: Promise<IteratorResult<string | Uint8Array>>; settled: boolean } | undefined;

  constructor(input: AsyncIterable<string | Uint8Array>, signal?: AbortSignal) {
    this.chunks = input[Symbol.asyncIterator]();
    this.stop = new Promise((resolve) => {
      if (signal?.aborted === true) resolve();
      else signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    void this.stop.then(() => (this.signalled = true));
  }

  /** True when {@link next} has a line without reading stdin. */
  get hasLine(): boolean {
    return this.ready.length > 0;
  }

  /** True once a stop signal ended the reading before the end of the input. */
  get stopped(): boolean {
    return this.signalled && !this.ended;
  }

  /**
   * The next non-empty line; undefined at the end of the input, after a stop signal, or when
   * `interrupt` settles first (a failure elsewhere). Throws {@link InvalidInputError} for a
   * line that is not UTF-8 (the lines before it are returned first).
   */
  async next(interrupt?: Promise<unknown>): Promise<{ line: number; text: string } | undefined> {
    for (;;) {
      if (this.signalled) return undefined;
      const line = this.ready.shift();
      if (line instanceof InvalidInputError) throw line;
      if (line !== undefined) return line;
      if (this.ended) return undefined;
      if (this.reading === undefined) {
        const reading = { chunk: this.chunks.next(), settled: false };
        const settle = (): void => void (reading.settled = true);
        reading.chunk.then(settle, settle);
        this.reading = reading;
      }
      const reading = this.reading;
      await Promise.race(
        interrupt === undefined
          ? [reading.chunk, this.stop]
          : [reading.chunk, this.stop, interrupt],
      );
      if (this.signalled || !reading.settled) return undefined;
      this.reading = undefined;
      const chunk = await reading.chunk;
      if (chunk.done === true) this.finish();
      else this.split(chunk.value);
    }
  }

  private split(chunk: string | Uint8Array): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (
      let newline = bytes.indexOf(NEWLINE);
      newline !== -1;
      newline = bytes.indexOf(NEWLINE, start)
    ) {
      this.partial.push(bytes.subarray(start, newline));
      if (!this.completeLine()) return;
      start = newline + 1;
    }
    if (start < bytes.length) this.partial.push(bytes.subarray(start));
  }

  private finish(): void {
    if (this.partial.length > 0) this.completeLine();
    this.ended = true;
  }

  /** Decodes the line in `partial`; false when it is not UTF-8, which ends the input. */
  private completeLine(): boolean {
    this.line++;
    const bytes =
      this.partial.length === 1 ? (this.partial[0] as Uint8Array) : Buffer.concat(this.partial);
    this.partial.length = 0;
    try {
      const text = this.decoder.decode(bytes).trim();
      if (text !== '') this.ready.push({ line: this.line, text });
      return true;
    } catch (err) {
      this.ready.push(new InvalidInputError(this.line, 'is not valid UTF-8', { cause: err }));
      this.ended = true;
      return false;
    }
  }
}
