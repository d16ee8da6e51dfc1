import { isTxnMessage, type WalMessage } from '../message/message.js';
import { tso, type TimeTick } from '../message/tso.js';
import { formatWalMessage } from '../testing/notation.js';

/** How `scan` writes messages: one line each. */
export type OutputFormat = 'pretty' | 'json';

const PREVIEW_CHARS = 120;

/**
 * The version of the line schema of `scan --format json`, the `schema` field of every line.
 * Raised when a field changes meaning or type or goes away; new fields may be added without it.
 *
 * @example
 * ```ts
 * const line = JSON.parse(text) as { schema: number };
 * if (line.schema !== SCAN_JSON_SCHEMA) throw new Error(`unknown rxwal scan schema ${line.schema}`);
 * ```
 */
export const SCAN_JSON_SCHEMA = 1;

/**
 * One output line (without the newline) for a delivered message; as JSON, the
 * {@link messageToJson} object after a `schema` field ({@link SCAN_JSON_SCHEMA}).
 *
 * @example
 * ```ts
 * formatMessageLine(message, 'json'); // '{"schema":1,"id":"2","type":"Insert",…}'
 * ```
 */
export function formatMessageLine(m: WalMessage, format: OutputFormat): string {
  if (format === 'pretty') return prettyLine(m);
  return JSON.stringify({ schema: SCAN_JSON_SCHEMA, ...messageToJson(m) });
}

/**
 * The JSON form of a message: bigints (ticks, txn ids) as decimal strings, ids as strings, the
 * tick's date, a keepalive of `Infinity` as `null`, a byte payload as `payloadText` when it is
 * UTF-8 text and as `payloadBase64` otherwise (any other payload as `payload`), and an assembled
 * transaction's messages in `body`.
 */
export function messageToJson(m: WalMessage): Record<string, unknown> {
  const json: Record<string, unknown> = {
    id: m.id.key,
    type: m.type,
    timeTick: m.timeTick.toString(),
    time: tickDate(m.timeTick),
    vchannel: m.vchannel,
    lastConfirmedId: m.lastConfirmedId.key,
  };
  if (m.txn !== undefined) {
    const keepaliveMs = Number.isFinite(m.txn.keepaliveMs) ? m.txn.keepaliveMs : null;
    json.txn = { txnId: m.txn.txnId.toString(), keepaliveMs };
  }
  json.persisted = m.persisted;
  json.properties = m.properties;
  if (m.payload instanceof Uint8Array) {
    const text = decodeText(m.payload);
    if (text === undefined) json.payloadBase64 = bytesToBase64(m.payload);
    else json.payloadText = text;
  } else if (m.payload !== undefined) json.payload = toJsonValue(m.payload);
  json.size = m.size;
  if (isTxnMessage(m)) {
    json.beginId = m.begin.id.key;
    json.body = m.body.map(messageToJson);
  }
  return json;
}

/** `<date>  Insert v1 @<tick> #<id> {k=v}  <payload>`; a Txn's messages indented below it. */
function prettyLine(m: WalMessage): string {
  let line = `${tickDate(m.timeTick)}  ${headline(m)}${describeExtras(m)}`;
  if (isTxnMessage(m)) {
    for (const body of m.body) line += `\n    ${formatWalMessage(body)}${describeExtras(body)}`;
  }
  return line;
}

/** The canonical notation; for a Txn without its bracketed bodies, which follow on their own lines. */
function headline(m: WalMessage): string {
  const text = formatWalMessage(m);
  if (!isTxnMessage(m)) return text;
  const bodies = ` [${m.body.map(formatWalMessage).join(', ')}]`;
  return `${text.slice(0, text.length - bodies.length)} (${m.body.length} messages)`;
}

function describeExtras(m: WalMessage): string {
  let text = '';
  const properties = Object.entries(m.properties);
  if (properties.length > 0) {
    text += ` {${properties.map(([key, value]) => `${key}=${value}`).join(', ')}}`;
  }
  if (m.payload !== undefined) text += `  ${previewPayload(m.payload)}`;
  return text;
}

/**
 * A payload in at most {@link PREVIEW_CHARS} characters: JSON as it is, other text quoted, other
 * bytes counted.
 */
export function previewPayload(payload: unknown): string {
  let text: string;
  if (payload instanceof Uint8Array) {
    const decoded = decodeText(payload);
    text =
      decoded === undefined
        ? `<${payload.length} bytes>`
        : isJsonText(decoded)
          ? decoded
          : JSON.stringify(decoded);
  } else {
    text = JSON.stringify(toJsonValue(payload)) ?? String(payload);
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

/** The tick's physical part as an ISO date. */
export function tickDate(tt: TimeTick): string {
  const millis = tso.physical(tt);
  return millis <= 8_640_000_000_000_000 ? new Date(millis).toISOString() : `+${millis}ms`;
}

/** A payload made JSON-safe: bigints as strings, bytes as base64, the rest as JSON would. */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return bytesToBase64(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object' && value !== null) {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = toJsonValue(v);
    return out;
  }
  return value;
}

function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function isJsonText(text: string): boolean {
  if (!/^\s*[[{]/.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text when they are valid UTF-8 without control characters; else undefined. */
function decodeText(bytes: Uint8Array): string | undefined {
  try {
    const text = utf8.decode(bytes);
    // eslint-disable-next-line no-control-regex
    return /[\u0000-\u0008\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}
