/** The UTF-8 length of `text` without Node's Buffer (browsers); lone surrogates count 3 bytes. */
export function utf8LengthOf(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: 2 UTF-16 units, 4 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** The UTF-8 length of `text`: Node's native `Buffer.byteLength` where there is one. */
export const utf8Length: (text: string) => number =
  typeof globalThis.Buffer?.byteLength === 'function'
    ? (text) => Buffer.byteLength(text)
    : utf8LengthOf;
