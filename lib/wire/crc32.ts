import type * as Zlib from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF),
 * the checksum of every wire record. `crc32(Buffer.from('123456789')) === 0xcbf43926`.
 *
 * Node ≥ 20.15 / 22.2 computes it natively (`zlib.crc32`, zlib's SIMD code); on older runtimes a
 * table-driven loop gives the same values.
 */
const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

type NativeCrc32 = (data: Uint8Array, value?: number) => number;

/**
 * The runtime's own CRC-32, when it has one. `node:zlib` is fetched, not imported, so the core
 * loads no Node built-in (browsers, bundlers); Nodes before 20.16 take the portable loop.
 */
const runtimeCrc32 = (
  (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.('node:zlib') as (typeof Zlib & { crc32?: NativeCrc32 }) | undefined
)?.crc32;
let nativeCrc32: NativeCrc32 | undefined = runtimeCrc32;

/**
 * The CRC-32 of `bytes[start, end)` as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * crc32(Buffer.from('123456789')); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (nativeCrc32 === undefined) return portableCrc32(bytes, start, end);
  return nativeCrc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
}

/**
 * The table-driven CRC-32 used where the runtime has no `zlib.crc32` (exported for tests).
 *
 * @example
 * ```ts
 * portableCrc32(Buffer.from('123456789')) === crc32(Buffer.from('123456789')); // true
 * ```
 */
export function portableCrc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c = (TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * For tests: makes {@link crc32} use the runtime's `zlib.crc32` (`true`, when there is one) or
 * the portable loop (`false`); returns whether the native one is now in use.
 *
 * @example
 * ```ts
 * useNativeCrc32(false); // every record's checksum through the portable loop
 * ```
 */
export function useNativeCrc32(native: boolean): boolean {
  nativeCrc32 = native ? runtimeCrc32 : undefined;
  return nativeCrc32 !== undefined;
}
