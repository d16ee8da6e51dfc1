import { ConfigError, InvalidMessageError } from '../errors.js';
import { isSystemMessageType } from '../message/message.js';
import { parseDuration } from '../internal/duration.js';
import type { AppendInit } from '../wal/wal.js';
import { choiceOption, parseCommandArgs, stringOption, walPath } from './args.js';
import type { CliDeps, CliWal } from './deps.js';
import { ExitCode, InvalidInputError, UsageError } from './errors.js';
import { APPEND_HELP } from './help.js';
import { LineWriter } from './output.js';

const APPEND_OPTIONS = {
  txn: { type: 'boolean' },
  vchannel: { type: 'string' },
  keepalive: { type: 'string' },
  'payload-codec': { type: 'string' },
} as const;

/** Appends issued together are written as one batch by the writer. */
const APPEND_BATCH = 256;

interface AppendPlan {
  path: string;
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
  return {
    path: walPath('append', args.positionals),
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
  });
  let failure: { error: unknown } | undefined;
  let wrote = false;
  const written = (): void => void (wrote = true);
  try {
    if (plan.txn) await appendTxn(wal, plan, deps, out, written);
    else await appendEach(wal, plan, deps, out, written);
  } catch (error) {
    failure = { error };
  }
  try {
    // a scan releases what is below a time tick: write one now, also after a bad line
    if (wrote) await wal.syncTimeTick();
    await wal.close();
  } catch (error) {
    failure ??= { error };
  }
  if (failure !== undefined) throw failure.error;
  return ExitCode.Ok;
}

async function appendEach(
  wal: CliWal,
  plan: AppendPlan,
  deps: CliDeps,
  out: LineWriter,
  written: () => void,
): Promise<void> {
  let batch: Promise<{ id: { key: string } }>[] = [];
  /** Prints the ids of the batch's appends in order, up to the first that failed, and throws that. */
  const flush = async (): Promise<void> => {
    const settled = await Promise.allSettled(batch);
    batch = [];
    for (const result of settled) {
      if (result.status === 'rejected') throw result.reason;
      await out.line(result.value.id.key);
    }
  };
  for await (const { line, text } of jsonLines(deps.stdin)) {
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
    batch.push(appended);
    // A line the WAL refuses at once (bad input) has rejected already: stop before the next one.
    await Promise.race([raw, ALREADY]).catch(flush);
    if (batch.length >= APPEND_BATCH) await flush();
  }
  await flush();
}

/** Settled: a race against it tells whether another promise had already settled. */
const ALREADY = Promise.resolve();

async function appendTxn(
  wal: CliWal,
  plan: AppendPlan,
  deps: CliDeps,
  out: LineWriter,
  written: () => void,
): Promise<void> {
  const messages: { line: number; init: AppendInit }[] = [];
  for await (const { line, text } of jsonLines(deps.stdin)) {
    messages.push({ line, init: parseMessageLine(text, line, payloadCodecOf(wal)) });
  }
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

/** The non-empty lines of a stream, numbered from 1. */
async function* jsonLines(
  input: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<{ line: number; text: string }> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  let line = 0;
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = rest.indexOf('\n')) !== -1) {
      const text = rest.slice(0, newline).trim();
      rest = rest.slice(newline + 1);
      line++;
      if (text !== '') yield { line, text };
    }
  }
  rest += decoder.decode();
  line++;
  if (rest.trim() !== '') yield { line, text: rest.trim() };
}
