import { utf8Length } from '../internal/utf8Length.js';

/**
 * The estimated size in bytes of a message with this payload and these properties (reference
 * § 1.2, § 1.10): the payload's byte length plus the length of every property key and value.
 * Every byte counter of rxwal uses this one estimate, so counters return to 0 when buffers drain.
 *
 * Payload bytes: a `Uint8Array`/`Buffer` counts its byte length, a string its UTF-8 length,
 * `undefined` and `null` nothing, anything else the UTF-8 length of its JSON form.
 *
 * @example
 * ```ts
 * estimateSize('abc', { k: 'vv' }); // 3 + 1 + 2 = 6
 * ```
 */
export function estimateSize(
  payload: unknown,
  properties?: Readonly<Record<string, string>>,
): number {
  let size = payloadSize(payload);
  if (properties !== undefined) {
    for (const key in properties) {
      size += utf8Length(key) + utf8Length(properties[key] ?? '');
    }
  }
  return size;
}

function payloadSize(payload: unknown): number {
  if (payload === undefined || payload === null) return 0;
  if (payload instanceof Uint8Array) return payload.byteLength;
  if (typeof payload === 'string') return utf8Length(payload);
  try {
    const json = JSON.stringify(payload, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    return json === undefined ? 0 : utf8Length(json);
  } catch {
    return 0; // unserialisable (cyclic) payloads count as empty; they are the caller's business
  }
}
