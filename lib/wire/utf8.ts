/** A lone surrogate: UTF-8 cannot hold it, so `Buffer.from` would silently replace it by U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `String.prototype.isWellFormed` (Node ≥ 20), typed here because the ES2022 lib lacks it. */
type WellFormedCheck = (this: string) => boolean;
const runtimeIsWellFormed = (String.prototype as { isWellFormed?: WellFormedCheck }).isWellFormed;
let nativeIsWellFormed: WellFormedCheck | undefined = runtimeIsWellFormed;

/**
 * Is `text` well-formed UTF-16 (no lone surrogates), i.e. does it survive UTF-8 unchanged? Uses
 * the runtime's `String.prototype.isWellFormed` where there is one, a regular expression elsewhere.
 *
 * @example
 * ```ts
 * isWellFormed('v1'); // true
 * isWellFormed('\ud800'); // false
 * ```
 */
export function isWellFormed(text: string): boolean {
  return nativeIsWellFormed === undefined
    ? !LONE_SURROGATE.test(text)
    : nativeIsWellFormed.call(text);
}

/**
 * For tests: makes {@link isWellFormed} use the runtime's `String.prototype.isWellFormed`
 * (`true`, when there is one) or the regular expression (`false`); returns whether the native
 * check is now in use.
 *
 * @example
 * ```ts
 * useNativeIsWellFormed(false); // every check through the regular expression
 * ```
 */
export function useNativeIsWellFormed(native: boolean): boolean {
  nativeIsWellFormed = native ? runtimeIsWellFormed : undefined;
  return nativeIsWellFormed !== undefined;
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes `bytes[start, end)` as strict UTF-8 (throws `TypeError` on invalid input, keeps a
 * leading BOM). Pure ASCII, the common case for types and vchannels, takes a fast path.
 *
 * @example
 * ```ts
 * decodeUtf8(Buffer.from('v1'), 0, 2); // 'v1'
 * ```
 */
export function decodeUtf8(bytes: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) >= 0x80) return fatalDecoder.decode(bytes.subarray(start, end));
  }
  return bytes.toString('latin1', start, end);
}
