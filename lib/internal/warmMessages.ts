import type { WalMessage } from '../message/message.js';

/**
 * Reads, for every message of a batch, the two things the scanner's stages read first of each
 * data message: its id's key (the reorder stage's duplicate check) and its time tick (the heap).
 * Both live in objects of their own, apart from the message. When a reader hands over a scattered
 * part of a log held in memory (one vchannel's share of a memory WAL), each of those objects is a
 * cache miss. Met one at a time inside the stages, the misses wait on each other; in this tight
 * loop of independent reads the CPU fetches many at once, and the stages then find them in cache
 * (bench/README.md, "Warming each batch").
 *
 * Never throws: a message it cannot read is left to the stage that reads it.
 *
 * @param batch the messages a reader has just returned
 * @returns a number that depends on every read, for the caller to keep: reads whose results are
 *   never used may be dropped by the engine
 */
export function warmMessages(batch: readonly WalMessage[]): number {
  let sum = 0;
  try {
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i] as WalMessage;
      sum += m.id.key.length;
      if (m.timeTick === 0n) sum++;
    }
  } catch {
    // a malformed message (no id, say): the stage that reads it reports it, as it would unwarmed
  }
  return sum;
}
