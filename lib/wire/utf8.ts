/** A lone surrogate: UTF-8 cannot hold it, so `Buffer.from` would silently replace it by U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Is `text` well-formed UTF-16 (no lone surrogates), i.e. does it survive UTF-8 unchanged? */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes `bytes[start, end)` as strict UTF-8 (throws `TypeError` on invalid input, keeps a
 * leading BOM). Pure ASCII, the common case for types and vchannels, takes a fast path.
 */
export function decodeUtf8(bytes: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) >= 0x80) return fatalDecoder.decode(bytes.subarray(start, end));
  }
  return bytes.toString('latin1', start, end);
}
