import { parseArgs, type ParseArgsConfig } from 'node:util';

import { messageId, type MessageId } from '../message/messageId.js';
import { MAX_TIME_TICK, tso, type TimeTick } from '../message/tso.js';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The parsed command line of one command: its option values and its positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** `node:util` parseArgs, strict, with its errors turned into {@link UsageError}s. */
export function parseCommandArgs(command: string, argv: string[], options: Options): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    throw new UsageError(`${command}: ${parseArgsMessage(err)}`, command);
  }
}

/** parseArgs's messages carry advice for script authors; keep their first sentence. */
function parseArgsMessage(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err))
    .replace(/^\w*Error \[\w+\]: /, '')
    .split('\n')[0] as string;
  return (message.split('. ')[0] as string).replace(/\.$/, '');
}

/** The one `<wal>` positional every command takes. */
export function walPath(command: string, positionals: readonly string[]): string {
  if (positionals.length === 0) throw new UsageError(`${command}: missing <wal> (a file)`, command);
  if (positionals.length > 1) {
    throw new UsageError(
      `${command}: unexpected argument ${JSON.stringify(positionals[1])}`,
      command,
    );
  }
  return positionals[0] as string;
}

/** A string option's value (the last one when repeated). */
export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** One of a fixed set of words. */
export function choiceOption<T extends string>(
  command: string,
  values: ParsedArgs['values'],
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = stringOption(values, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(
      `${command}: --${name} must be ${choices.join(' or ')} (got ${JSON.stringify(value)})`,
      command,
    );
  }
  return value as T;
}

/** A message id: the row sequence of the log, a non-negative integer. */
export function parseId(command: string, option: string, text: string): MessageId {
  if (!/^\d+$/.test(text)) {
    throw new UsageError(
      `${command}: ${option} needs a message id, a non-negative integer (got ${JSON.stringify(text)})`,
      command,
    );
  }
  const seq = BigInt(text);
  if (seq >= 1n << 64n) {
    throw new UsageError(`${command}: ${option} ${text} is beyond 2^64 - 1`, command);
  }
  return messageId(seq);
}

/**
 * A time tick: an integer (`454819840000000007`), or an ISO date (`2025-01-01T12:00:00Z`) meaning
 * the first tick of that millisecond, `tso.compose(date, 0)` (then `date: true`).
 */
export function parseTimeTick(
  command: string,
  option: string,
  text: string,
): { timeTick: TimeTick; date: boolean } {
  if (/^\d+$/.test(text)) {
    const tt = BigInt(text);
    if (tt > MAX_TIME_TICK) {
      throw new UsageError(`${command}: ${option} ${text} is beyond 2^64 - 1`, command);
    }
    return { timeTick: tt, date: false };
  }
  const millis = /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(millis) || millis < 0) {
    throw new UsageError(
      `${command}: ${option} needs a time tick (an integer) or an ISO date (got ${JSON.stringify(text)})`,
      command,
    );
  }
  return { timeTick: tso.compose(millis, 0), date: true };
}

/** A TCP port, 0 (any free port) to 65535. */
export function parsePort(command: string, option: string, text: string): number {
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(
      `${command}: ${option} needs a port number 0-65535 (got ${JSON.stringify(text)})`,
      command,
    );
  }
  return port;
}
