/**
 * The contract every CheckpointStore keeps, as a reusable suite: call it from a backend's spec
 * with a factory (see spec/checkpoint/checkpointStore.spec.ts and spec/sqlite/checkpointStore.spec.ts).
 */
import type { Checkpoint } from '../../lib/checkpoint/checkpoint.js';
import type { CheckpointStore } from '../../lib/checkpoint/checkpointStore.js';
import { ConfigError } from '../../lib/errors.js';
import { messageId } from '../../lib/message/messageId.js';
import { MAX_TIME_TICK } from '../../lib/message/tso.js';

/** One fresh, empty store per test, and a way to reach what it saved from a new instance. */
export interface CheckpointStoreFixture {
  readonly store: CheckpointStore;
  /** A second store on the same backing (same name): what a restarted process would open. */
  reopen(): Promise<CheckpointStore>;
  /** A store on the same backing under another name, when names exist; else undefined. */
  other?(): Promise<CheckpointStore>;
  dispose(): Promise<void>;
}

const cp = (tt: bigint, id: bigint, lcid: bigint): Checkpoint => ({
  timeTick: tt,
  id: messageId(id),
  lastConfirmedId: messageId(lcid),
});

const plain = (c: Checkpoint | undefined): unknown =>
  c === undefined
    ? undefined
    : { timeTick: c.timeTick, id: c.id.key, lastConfirmedId: c.lastConfirmedId.key };

/**
 * Declares the contract tests of a {@link CheckpointStore} under `describe(title)`.
 *
 * @param title the suite's title, e.g. `'sqliteCheckpointStore'`
 * @param fixture makes a fresh, empty store for each test
 */
export function checkpointStoreContract(
  title: string,
  fixture: () => Promise<CheckpointStoreFixture>,
): void {
  describe(`${title}: the CheckpointStore contract`, () => {
    let f: CheckpointStoreFixture;
    beforeEach(async () => {
      f = await fixture();
    });
    afterEach(async () => {
      await f.dispose();
    });

    test('a store nothing was saved to loads undefined', async () => {
      await expect(f.store.load()).resolves.toBeUndefined();
    });

    test('load returns what save stored, and a later save replaces it', async () => {
      await f.store.save(cp(100n, 7n, 5n));
      expect(plain(await f.store.load())).toEqual({
        timeTick: 100n,
        id: '7',
        lastConfirmedId: '5',
      });
      await f.store.save(cp(101n, 9n, 9n));
      expect(plain(await f.store.load())).toEqual({
        timeTick: 101n,
        id: '9',
        lastConfirmedId: '9',
      });
    });

    test('the loaded checkpoint compares like the saved one (ids are real MessageIds)', async () => {
      await f.store.save(cp(5n, 12n, 3n));
      const loaded = await f.store.load();
      expect(loaded?.id.compare(messageId(12n))).toBe(0);
      expect(loaded?.lastConfirmedId.compare(messageId(4n))).toBeLessThan(0);
    });

    test('ticks up to 2^64 - 1 and ids beyond 2^53 survive exactly', async () => {
      const big = (1n << 60n) + 3n;
      await f.store.save(cp(MAX_TIME_TICK, big, big - 1n));
      expect(plain(await f.store.load())).toEqual({
        timeTick: MAX_TIME_TICK,
        id: big.toString(),
        lastConfirmedId: (big - 1n).toString(),
      });
    });

    test('what was saved is there for a store opened again on the same backing', async () => {
      await f.store.save(cp(42n, 4n, 2n));
      const again = await f.reopen();
      expect(plain(await again.load())).toEqual({ timeTick: 42n, id: '4', lastConfirmedId: '2' });
    });

    test('stores of different names do not see each other', async () => {
      if (f.other === undefined) return;
      const other = await f.other();
      await f.store.save(cp(42n, 4n, 2n));
      await expect(other.load()).resolves.toBeUndefined();
    });

    test('saving something that is not a checkpoint rejects with a ConfigError and keeps the last one', async () => {
      await f.store.save(cp(1n, 1n, 1n));
      const bad = { timeTick: 5, id: messageId(1), lastConfirmedId: messageId(1) };
      await expect(f.store.save(bad as unknown as Checkpoint)).rejects.toThrow(ConfigError);
      expect(plain(await f.store.load())).toEqual({ timeTick: 1n, id: '1', lastConfirmedId: '1' });
    });

    test('saves issued one after another without waiting end with the last one stored', async () => {
      await Promise.all([1n, 2n, 3n, 4n].map((n) => f.store.save(cp(n * 10n, n, n))));
      expect(plain(await f.store.load())).toEqual({ timeTick: 40n, id: '4', lastConfirmedId: '4' });
    });
  });
}
