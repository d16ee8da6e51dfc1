import { MessageType, type TxnMessage, type WalMessage } from './message.js';

/**
 * Assembles the {@link TxnMessage} of a committed transaction (reference § 1.12): the commit's
 * id, tick, last-confirmed id, txn context and properties, the begin's vchannel, `persisted`,
 * payload `undefined`, size = Σ body sizes, and bodies copied with the commit's tick and
 * last-confirmed id (the originals are never mutated).
 */
export function buildTxnMessage<P>(
  begin: WalMessage<P>,
  bodies: readonly WalMessage<P>[],
  commit: WalMessage<P>,
): TxnMessage<P> {
  const body: WalMessage<P>[] = new Array<WalMessage<P>>(bodies.length);
  let size = 0;
  for (let i = 0; i < bodies.length; i++) {
    const original = bodies[i] as WalMessage<P>;
    size += original.size;
    body[i] = Object.freeze({
      ...original,
      timeTick: commit.timeTick,
      lastConfirmedId: commit.lastConfirmedId,
    });
  }
  return Object.freeze({
    id: commit.id,
    type: MessageType.Txn,
    timeTick: commit.timeTick,
    vchannel: begin.vchannel,
    lastConfirmedId: commit.lastConfirmedId,
    txn: commit.txn,
    persisted: true,
    properties: commit.properties,
    payload: undefined as P,
    size,
    begin,
    commit,
    body: Object.freeze(body),
  });
}
