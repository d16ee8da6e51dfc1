/**
 * rxwal/testing — helpers for marble tests of WAL pipelines (`createWalTestScheduler`,
 * `walMessages`) and for tests of whole scanners in virtual time (`VirtualClock`, `scriptedWal`).
 *
 * @example
 * ```ts
 * import { createWalTestScheduler, scriptedWal, VirtualClock, walMessages } from 'rxwal/testing';
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
