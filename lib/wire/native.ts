import { useNativeCrc32 } from './crc32.js';
import { useNativeIsWellFormed } from './utf8.js';

/**
 * For tests (internal, not exported by the package): switches the wire format between the
 * runtime's native helpers (`zlib.crc32`, `String.prototype.isWellFormed`) and the portable code
 * used where the runtime lacks them, so that both paths run the same wire-format tests. Returns
 * which native helpers are now in use (none with `false`; with `true`, those the runtime has).
 *
 * @example
 * ```ts
 * beforeAll(() => useNativeWire(false));
 * afterAll(() => useNativeWire(true));
 * ```
 */
export function useNativeWire(native: boolean): { crc32: boolean; isWellFormed: boolean } {
  return { crc32: useNativeCrc32(native), isWellFormed: useNativeIsWellFormed(native) };
}
