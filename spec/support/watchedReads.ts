import type { WalMessage } from '../../lib/message/message.js';
import type { MessageId } from '../../lib/message/messageId.js';

/** How many times a message's id key and time tick were read, through {@link watchedReads}. */
export interface Reads {
  key: number;
  timeTick: number;
}

/**
 * `m` seen through an object that counts, in `reads`, the reads of its id's key and of its time
 * tick (the two things `warmMessages` reads ahead); every other property reads through to `m`.
 */
export function watchedReads(m: WalMessage, reads: Reads): WalMessage {
  const id = Object.create(m.id, {
    key: { get: () => (reads.key++, m.id.key) },
  }) as MessageId;
  return Object.create(m, {
    id: { value: id },
    timeTick: { get: () => (reads.timeTick++, m.timeTick) },
  }) as WalMessage;
}
