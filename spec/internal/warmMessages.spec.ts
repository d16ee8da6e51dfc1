import { createMessage } from '../../lib/message/createMessage.js';
import type { WalMessage } from '../../lib/message/message.js';
import { warmMessages } from '../../lib/internal/warmMessages.js';
import { watchedReads } from '../support/watchedReads.js';

describe('warmMessages', () => {
  it('reads the id key and the time tick of every message, once each', () => {
    const reads = { key: 0, timeTick: 0 };
    const batch = [1, 2, 3].map((n) =>
      watchedReads(createMessage({ id: n, type: 'Insert', timeTick: n, vchannel: 'v1' }), reads),
    );
    warmMessages(batch);
    expect(reads).toEqual({ key: 3, timeTick: 3 });
  });

  it('returns a number that depends on both reads', () => {
    const at = (id: number, timeTick: number): WalMessage =>
      createMessage({ id, type: 'Insert', timeTick });
    expect(warmMessages([])).toBe(0);
    expect(warmMessages([at(7, 5), at(12, 5)])).toBe(1 + 2);
    expect(warmMessages([at(7, 0), at(12, 5)])).toBe(1 + 1 + 2);
  });

  it('changes nothing it reads', () => {
    const batch = [createMessage({ id: 4, type: 'Insert', timeTick: 9, vchannel: 'v2' })];
    const before = batch.slice();
    warmMessages(batch);
    expect(batch).toEqual(before);
    expect(batch[0]).toBe(before[0]);
  });

  it('never throws on a malformed message: the stage that reads it reports it', () => {
    const good = createMessage({ id: 12, type: 'Insert', timeTick: 5 });
    const malformed = [
      { ...good, id: undefined },
      { ...good, id: {} },
      null,
      undefined,
    ] as unknown as WalMessage[];
    for (const bad of malformed) {
      expect(warmMessages([good, bad, good])).toBe(2); // what it read before the bad one
    }
  });
});
