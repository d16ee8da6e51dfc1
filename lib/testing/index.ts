/**
 * rxwal/testing — helpers for marble tests of WAL pipelines.
 *
 * @example
 * ```ts
 * import { createWalTestScheduler, walMessages } from 'rxwal/testing';
 * ```
 * @packageDocumentation
 */
export { parseWalMessage, walMessages, formatWalMessage } from './notation.js';
export { createWalTestScheduler, normalizeWalValues } from './scheduler.js';
export { seededRandom, randomInt } from './random.js';
export { settle, VirtualClock } from './virtualClock.js';
export { scriptedWal } from './scriptedWal.js';
export type {
  ScriptedRead,
  ScriptedValue,
  ScriptedWal,
  ScriptedWalOptions,
} from './scriptedWal.js';
