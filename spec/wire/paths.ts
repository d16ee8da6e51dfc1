import * as zlib from 'node:zlib';

import { useNativeWire } from '../../lib/wire/native.js';

/** The two implementations the wire-format specs run on. */
export const WIRE_PATHS = ['native', 'portable'] as const;
export type WirePath = (typeof WIRE_PATHS)[number];

/** What this runtime offers natively (Node 20.20 here: both). */
export const RUNTIME_HAS = {
  crc32: typeof (zlib as { crc32?: unknown }).crc32 === 'function',
  isWellFormed: typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function',
};

/**
 * Runs the enclosing describe on `path`: the runtime's `zlib.crc32` and
 * `String.prototype.isWellFormed`, or the portable code used where they are missing; checks the
 * switch took effect, and restores the native path afterwards.
 */
export function onWirePath(path: WirePath): void {
  beforeAll(() => {
    const inUse = useNativeWire(path === 'native');
    expect(inUse).toEqual(path === 'native' ? RUNTIME_HAS : { crc32: false, isWellFormed: false });
  });
  afterAll(() => {
    useNativeWire(true);
  });
}
