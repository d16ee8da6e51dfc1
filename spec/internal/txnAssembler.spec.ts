import { StableHeap } from '../../lib/internal/heap.js';
import { TxnAssembler, type TxnAssemblerEvents } from '../../lib/internal/txnAssembler.js';
import { createMessage, type MessageInit } from '../../lib/message/createMessage.js';
import { isTxnMessage, type TxnMessage, type WalMessage } from '../../lib/message/message.js';
import { MAX_TIME_TICK, tso, type TimeTick } from '../../lib/message/tso.js';
import type { TxnOutcome } from '../../lib/observability/metrics.js';

/** A real hybrid time: 2025-01-01T12:00:00Z, logical 0 (reference § 8.3: `B` = current hybrid time). */
const B = tso.compose(Date.UTC(2025, 0, 1, 12, 0, 0), 0);
const at = (ms: number): TimeTick => tso.addDuration(B, ms);

interface Recorded {
  readonly events: TxnAssemblerEvents;
  readonly outcomes: [TxnOutcome, bigint | undefined][];
  readonly anomalies: [string, string][];
}

function recordEvents(): Recorded {
  const outcomes: [TxnOutcome, bigint | undefined][] = [];
  const anomalies: [string, string][] = [];
  return {
    outcomes,
    anomalies,
    events: {
      outcome: (outcome, txnId) => outcomes.push([outcome, txnId]),
      anomaly: (reason, m) => anomalies.push([reason, m.id.key]),
    },
  };
}

/** Real messages on v1 with increasing ids, as the upstream test allocates them. */
function messageFactory(): (
  init: Omit<MessageInit, 'id' | 'vchannel'> & { vchannel?: string },
) => WalMessage {
  let nextId = 1;
  return (init) => createMessage({ vchannel: 'v1', ...init, id: nextId++ });
}

/** The reference's `handle(msgs, ts)`: each message in order, then the expiry sweep at `ts`. */
function handleBatch(
  assembler: TxnAssembler,
  msgs: readonly WalMessage[],
  ts: TimeTick,
): WalMessage[] {
  const out: WalMessage[] = [];
  for (const m of msgs) {
    const emitted = assembler.handle(m);
    if (emitted !== undefined) out.push(emitted);
  }
  assembler.expire(ts);
  return out;
}

function asTxn(m: WalMessage | undefined): TxnMessage {
  if (m === undefined || !isTxnMessage(m))
    throw new Error(`expected a Txn message, got ${String(m?.type)}`);
  return m;
}

describe('TxnAssembler', () => {
  describe('reference § 8.3 txn_buffer_test part 1: non-txn and orphans', () => {
    it('call 1: three non-txn inserts at B pass with ts B+1ms, no builder', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      const make = messageFactory();
      const msgs = [1, 2, 3].map(() => make({ type: 'Insert', timeTick: B }));
      const out = handleBatch(assembler, msgs, at(1));
      expect(out).toHaveLength(3);
      expect(out).toEqual(msgs);
      expect(assembler.openCount).toBe(0);
      expect(outcomes).toEqual([
        ['autocommit', undefined],
        ['autocommit', undefined],
        ['autocommit', undefined],
      ]);
    });

    it('call 2: orphan body, rollback and commit are dropped; only the two non-txn inserts pass', () => {
      const { events, outcomes, anomalies } = recordEvents();
      const assembler = new TxnAssembler(events);
      const make = messageFactory();
      const first = make({ type: 'Insert', timeTick: B });
      const orphanBody = make({ type: 'Insert', timeTick: B, txn: { txnId: 1, keepalive: '1s' } });
      const second = make({ type: 'Insert', timeTick: B });
      const rollback = make({
        type: 'RollbackTxn',
        timeTick: B,
        txn: { txnId: 1, keepalive: '1s' },
      });
      const commit = make({ type: 'CommitTxn', timeTick: B, txn: { txnId: 2, keepalive: '1s' } });
      const out = handleBatch(assembler, [first, orphanBody, second, rollback, commit], at(1));
      expect(out).toEqual([first, second]);
      expect(assembler.openCount).toBe(0);
      expect(assembler.bytes).toBe(0);
      // a rollback without a builder does nothing at all: no outcome, no warning
      expect(outcomes).toEqual([
        ['autocommit', undefined],
        ['autocommit', undefined],
      ]);
      expect(anomalies).toEqual([
        ['body without an open transaction dropped', orphanBody.id.key],
        ['commit without an open transaction ignored (may be a repeated commit)', commit.id.key],
      ]);
    });
  });

  describe('reference § 8.3 txn_buffer_test part 2: uncommitted transaction, keepalive 201 ms', () => {
    /** The upstream "create uncommitted" helper: u1..u3 with txn {T, 201 ms}. */
    function createUncommitted(assembler: TxnAssembler, txnId: number): { bodies: WalMessage[] } {
      const make = messageFactory();
      const txn = { txnId, keepalive: 201 };
      // u1
      expect(
        handleBatch(assembler, [make({ type: 'BeginTxn', timeTick: B, txn })], at(1)),
      ).toHaveLength(0);
      // u2
      const body1 = make({ type: 'Insert', timeTick: at(100), txn });
      expect(handleBatch(assembler, [body1], at(200))).toHaveLength(0);
      // u3
      const plain = make({ type: 'Insert', timeTick: at(250) });
      const body2 = make({ type: 'Insert', timeTick: at(300), txn });
      expect(handleBatch(assembler, [plain, body2], at(400))).toEqual([plain]);
      expect(assembler.openCount).toBe(1);
      return { bodies: [body1, body2] };
    }

    it('u1..u3 leave exactly one uncommitted builder', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      createUncommitted(assembler, 1);
      expect(assembler.openCount).toBe(1);
    });

    it('commit (T=1) at B+500ms, ts B+600ms: one Txn with 2 bodies at tick B+500ms, no builder', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      const { bodies } = createUncommitted(assembler, 1);
      const commit = createMessage({
        id: 100,
        type: 'CommitTxn',
        timeTick: at(500),
        vchannel: 'v1',
        txn: { txnId: 1, keepalive: 201 },
      });
      const out = handleBatch(assembler, [commit], at(600));
      expect(out).toHaveLength(1);
      const txn = asTxn(out[0]);
      expect(txn.body).toHaveLength(2);
      expect(txn.timeTick).toBe(at(500));
      expect(txn.body.map((m) => m.timeTick)).toEqual([at(500), at(500)]);
      expect(txn.body.map((m) => m.id.key)).toEqual(bodies.map((m) => m.id.key));
      expect(assembler.openCount).toBe(0);
      expect(assembler.bytes).toBe(0);
      expect(outcomes.filter(([o]) => o !== 'autocommit')).toEqual([['committed', 1n]]);
    });

    it('rollback (T=2) at B+500ms, ts B+600ms: nothing emitted, no builder', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      createUncommitted(assembler, 2);
      const rollback = createMessage({
        id: 100,
        type: 'RollbackTxn',
        timeTick: at(500),
        vchannel: 'v1',
        txn: { txnId: 2, keepalive: 201 },
      });
      expect(handleBatch(assembler, [rollback], at(600))).toHaveLength(0);
      expect(assembler.openCount).toBe(0);
      expect(assembler.bytes).toBe(0);
      expect(outcomes.filter(([o]) => o !== 'autocommit')).toEqual([['rolledBack', 2n]]);
    });

    it('expiry (T=2): still alive at ts B+500ms, expired at B+501ms (deadline = last body B+300ms + 201ms)', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      createUncommitted(assembler, 2);
      expect(handleBatch(assembler, [], at(500))).toHaveLength(0);
      expect(assembler.openCount).toBe(1);
      expect(outcomes.filter(([o]) => o === 'expired')).toEqual([]);
      expect(handleBatch(assembler, [], at(501))).toHaveLength(0);
      expect(assembler.openCount).toBe(0);
      expect(assembler.bytes).toBe(0);
      expect(outcomes.filter(([o]) => o === 'expired')).toEqual([['expired', 2n]]);
    });

    it('expiry is checked against the physical part only: B+501ms minus one logical step is still alive', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      createUncommitted(assembler, 2);
      expect(assembler.expire(at(501) - 1n)).toBe(0);
      expect(assembler.openCount).toBe(1);
      expect(assembler.expire(at(501))).toBe(1);
    });
  });

  describe('keepalive as a tick offset', () => {
    it('truncates a fractional keepalive to whole ms, and a body slides the deadline by it', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      const txn = { txnId: 9, keepalive: 1.9 };
      assembler.handle(
        createMessage({ id: 1, type: 'BeginTxn', timeTick: B, vchannel: 'v1', txn }),
      );
      expect(assembler.expire(at(1) - 1n)).toBe(0);
      assembler.handle(
        createMessage({ id: 2, type: 'Insert', timeTick: at(1) - 1n, vchannel: 'v1', txn }),
      );
      expect(assembler.expire(at(2) - 2n)).toBe(0); // deadline: the body's tick + 1 ms
      expect(assembler.openCount).toBe(1);
      expect(assembler.expire(at(2) - 1n)).toBe(1);
      expect(assembler.openCount).toBe(0);
    });
  });

  describe('reference § 8.3 [derived] extra txn cases', () => {
    it('duplicate begin: the first begin wins, one Txn with 1 body', () => {
      const { events, outcomes, anomalies } = recordEvents();
      const assembler = new TxnAssembler(events);
      const txn = { txnId: 7 };
      const begin = createMessage({ id: 1, type: 'BeginTxn', timeTick: 10, vchannel: 'v1', txn });
      const again = createMessage({ id: 2, type: 'BeginTxn', timeTick: 11, vchannel: 'v2', txn });
      const body = createMessage({
        id: 3,
        type: 'Insert',
        timeTick: 12,
        vchannel: 'v1',
        txn,
        size: 5,
      });
      const commit = createMessage({ id: 4, type: 'CommitTxn', timeTick: 13, vchannel: 'v1', txn });
      const out = handleBatch(assembler, [begin, again, body, commit], 13n);
      expect(out).toHaveLength(1);
      const result = asTxn(out[0]);
      expect(result.begin).toBe(begin);
      expect(result.vchannel).toBe('v1');
      expect(result.body.map((m) => m.id.key)).toEqual(['3']);
      expect(anomalies).toEqual([['duplicate begin ignored', '2']]);
      expect(outcomes).toEqual([['committed', 7n]]);
    });

    it('a duplicate begin does not reset the deadline', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      const txn = { txnId: 7, keepalive: 10 };
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: at(0), txn }));
      assembler.handle(createMessage({ id: 2, type: 'BeginTxn', timeTick: at(5), txn }));
      expect(assembler.expire(at(10))).toBe(1);
    });

    it('commit without begin: nothing emitted, no builder', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      const commit = createMessage({
        id: 1,
        type: 'CommitTxn',
        timeTick: 13,
        vchannel: 'v1',
        txn: { txnId: 7 },
      });
      expect(handleBatch(assembler, [commit], 13n)).toHaveLength(0);
      expect(assembler.openCount).toBe(0);
      expect(outcomes).toEqual([]);
    });

    it('late commit after expiry: nothing emitted, metric expired = 1', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      const txn = { txnId: 7, keepalive: 1 };
      const X = at(0);
      expect(
        handleBatch(
          assembler,
          [createMessage({ id: 1, type: 'BeginTxn', timeTick: X, txn })],
          tso.addDuration(X, 1),
        ),
      ).toHaveLength(0);
      expect(assembler.openCount).toBe(0);
      const late = createMessage({
        id: 2,
        type: 'CommitTxn',
        timeTick: tso.addDuration(X, 2),
        txn,
      });
      expect(handleBatch(assembler, [late], tso.addDuration(X, 2))).toHaveLength(0);
      expect(outcomes).toEqual([['expired', 7n]]);
      expect(outcomes.filter(([o]) => o === 'expired')).toHaveLength(1);
    });

    it('a late body after expiry is dropped', () => {
      const { events, anomalies } = recordEvents();
      const assembler = new TxnAssembler(events);
      const txn = { txnId: 7, keepalive: 1 };
      handleBatch(
        assembler,
        [createMessage({ id: 1, type: 'BeginTxn', timeTick: at(0), txn })],
        at(1),
      );
      expect(
        handleBatch(
          assembler,
          [createMessage({ id: 2, type: 'Insert', timeTick: at(2), txn })],
          at(2),
        ),
      ).toHaveLength(0);
      expect(anomalies).toEqual([['body without an open transaction dropped', '2']]);
      expect(assembler.bytes).toBe(0);
    });

    it('commit in the same batch as the expiry time (keepalive 0): the commit is processed before the sweep', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      const txn = { txnId: 7, keepalive: 0 };
      const out = handleBatch(
        assembler,
        [
          createMessage({ id: 1, type: 'BeginTxn', timeTick: 10, txn }),
          createMessage({ id: 2, type: 'CommitTxn', timeTick: 11, txn }),
        ],
        11n,
      );
      expect(out).toHaveLength(1);
      expect(asTxn(out[0]).id.key).toBe('2');
      expect(outcomes).toEqual([['committed', 7n]]);
    });

    it('keepalive 0 expires at the begin tick when the sweep comes before the commit', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      const txn = { txnId: 7, keepalive: 0 };
      expect(
        handleBatch(
          assembler,
          [createMessage({ id: 1, type: 'BeginTxn', timeTick: 10, txn })],
          10n,
        ),
      ).toHaveLength(0);
      expect(
        handleBatch(
          assembler,
          [createMessage({ id: 2, type: 'CommitTxn', timeTick: 11, txn })],
          11n,
        ),
      ).toHaveLength(0);
      expect(outcomes).toEqual([['expired', 7n]]);
    });

    it('Txn fields: id 7, tick 106, begin vchannel, body copy of id 5 re-stamped with tick 106 and the commit last-confirmed id', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      const txn = { txnId: 7, keepalive: '10s' };
      const begin = createMessage({
        id: 4,
        type: 'BeginTxn',
        timeTick: 101,
        vchannel: 'v1',
        txn,
        size: 3,
      });
      const body = createMessage({
        id: 5,
        type: 'Insert',
        timeTick: 104,
        vchannel: 'v1',
        txn,
        payload: { row: 1 },
        size: 5,
      });
      const commit = createMessage({
        id: 7,
        type: 'CommitTxn',
        timeTick: 106,
        vchannel: 'v1',
        txn,
        lastConfirmedId: 4,
        properties: { origin: 'commit' },
        size: 2,
      });
      expect(assembler.handle(begin)).toBeUndefined();
      expect(assembler.handle(body)).toBeUndefined();
      const result = asTxn(assembler.handle(commit));
      expect(result.type).toBe('Txn');
      expect(result.id.key).toBe('7');
      expect(result.timeTick).toBe(106n);
      expect(result.vchannel).toBe('v1');
      expect(result.lastConfirmedId.key).toBe('4');
      expect(result.txn).toEqual({ txnId: 7n, keepaliveMs: 10_000 });
      expect(result.properties).toEqual({ origin: 'commit' });
      expect(result.persisted).toBe(true);
      expect(result.payload).toBeUndefined();
      expect(result.size).toBe(5);
      expect(result.begin).toBe(begin);
      expect(result.commit).toBe(commit);
      expect(result.body).toHaveLength(1);
      const copy = result.body[0] as WalMessage;
      expect(copy).not.toBe(body);
      expect(copy.id.key).toBe('5');
      expect(copy.timeTick).toBe(106n);
      expect(copy.lastConfirmedId.key).toBe('4');
      expect(copy.payload).toEqual({ row: 1 });
      // the original is never mutated
      expect(body.timeTick).toBe(104n);
      expect(body.lastConfirmedId.key).toBe('5');
    });

    it('bytes: begin [3] → body [5] → commit: 3 → 8 → 0', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      const txn = { txnId: 7 };
      expect(assembler.bytes).toBe(0);
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: 10, txn, size: 3 }));
      expect(assembler.bytes).toBe(3);
      assembler.handle(createMessage({ id: 2, type: 'Insert', timeTick: 11, txn, size: 5 }));
      expect(assembler.bytes).toBe(8);
      assembler.handle(createMessage({ id: 3, type: 'CommitTxn', timeTick: 12, txn, size: 4 }));
      expect(assembler.bytes).toBe(0);
    });

    it('bytes return to 0 after rollback, expiry and clear()', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      assembler.handle(
        createMessage({ id: 1, type: 'BeginTxn', timeTick: 10, txn: { txnId: 1 }, size: 3 }),
      );
      assembler.handle(
        createMessage({ id: 2, type: 'Insert', timeTick: 11, txn: { txnId: 1 }, size: 5 }),
      );
      assembler.handle(
        createMessage({ id: 3, type: 'RollbackTxn', timeTick: 12, txn: { txnId: 1 } }),
      );
      expect(assembler.bytes).toBe(0);
      assembler.handle(
        createMessage({
          id: 4,
          type: 'BeginTxn',
          timeTick: at(0),
          txn: { txnId: 2, keepalive: 5 },
          size: 2,
        }),
      );
      expect(assembler.bytes).toBe(2);
      assembler.expire(at(5));
      expect(assembler.bytes).toBe(0);
      assembler.handle(
        createMessage({ id: 5, type: 'BeginTxn', timeTick: 20, txn: { txnId: 3 }, size: 6 }),
      );
      assembler.handle(
        createMessage({
          id: 6,
          type: 'BeginTxn',
          timeTick: 20,
          txn: { txnId: 4, keepalive: Infinity },
          size: 1,
        }),
      );
      expect(assembler.clear()).toBe(7);
      expect([assembler.bytes, assembler.openCount]).toEqual([0, 0]);
      expect(assembler.expire(MAX_TIME_TICK)).toBe(0);
    });
  });

  describe('deadlines', () => {
    it('slide with each body: last body tick + keepalive, not the begin', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      const txn = { txnId: 7, keepalive: 100 };
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: at(0), txn }));
      assembler.handle(createMessage({ id: 2, type: 'Insert', timeTick: at(50), txn }));
      expect(assembler.expire(at(100))).toBe(0); // the begin's deadline is stale now
      expect(assembler.expire(at(149))).toBe(0);
      expect(assembler.openCount).toBe(1);
      expect(assembler.expire(at(150))).toBe(1);
      expect(outcomes).toEqual([['expired', 7n]]);
    });

    it('keepalive Infinity never expires, even at the largest tick', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      const txn = { txnId: 7, keepalive: Infinity };
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: 1, txn }));
      assembler.handle(createMessage({ id: 2, type: 'Insert', timeTick: 2, txn }));
      expect(assembler.expire(MAX_TIME_TICK)).toBe(0);
      expect(assembler.openCount).toBe(1);
      const result = asTxn(
        assembler.handle(createMessage({ id: 3, type: 'CommitTxn', timeTick: MAX_TIME_TICK, txn })),
      );
      expect(result.body.map((m) => m.timeTick)).toEqual([MAX_TIME_TICK]);
      expect(outcomes).toEqual([['committed', 7n]]);
    });

    it('a deadline beyond 2^64 does not wrap: a txn begun near 2^64 is alive at the largest tick', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      assembler.handle(
        createMessage({
          id: 1,
          type: 'BeginTxn',
          timeTick: MAX_TIME_TICK - 5n,
          txn: { txnId: 1, keepalive: '10s' },
        }),
      );
      expect(assembler.expire(MAX_TIME_TICK)).toBe(0);
      expect(assembler.openCount).toBe(1);
    });

    it('expires several transactions at once, in deadline order, and reports each', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      assembler.handle(
        createMessage({
          id: 1,
          type: 'BeginTxn',
          timeTick: at(0),
          txn: { txnId: 1, keepalive: 30 },
        }),
      );
      assembler.handle(
        createMessage({
          id: 2,
          type: 'BeginTxn',
          timeTick: at(0),
          txn: { txnId: 2, keepalive: 10 },
        }),
      );
      assembler.handle(
        createMessage({
          id: 3,
          type: 'BeginTxn',
          timeTick: at(0),
          txn: { txnId: 3, keepalive: 50 },
        }),
      );
      expect(assembler.expire(at(30))).toBe(2);
      expect(outcomes).toEqual([
        ['expired', 2n],
        ['expired', 1n],
      ]);
      expect(assembler.openCount).toBe(1);
    });

    it('a txnId reused after its commit is not expired by the first transaction’s deadline', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      const first = { txnId: 7, keepalive: 10 };
      const second = { txnId: 7, keepalive: 1000 };
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: at(0), txn: first }));
      assembler.handle(createMessage({ id: 2, type: 'CommitTxn', timeTick: at(1), txn: first }));
      assembler.handle(createMessage({ id: 3, type: 'BeginTxn', timeTick: at(2), txn: second }));
      expect(assembler.expire(at(500))).toBe(0);
      expect(assembler.openCount).toBe(1);
      expect(outcomes).toEqual([['committed', 7n]]);
    });

    it('stale deadline entries stay bounded while many bodies slide one deadline', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      const txn = { txnId: 1, keepalive: 1_000_000 };
      // a transaction that never expires has no deadline entry, before or after compaction
      assembler.handle(
        createMessage({
          id: 1000,
          type: 'BeginTxn',
          timeTick: at(0),
          txn: { txnId: 2, keepalive: Infinity },
        }),
      );
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: at(0), txn }));
      for (let i = 1; i <= 500; i++) {
        assembler.handle(
          createMessage({ id: i + 1, type: 'Insert', timeTick: at(i), txn, size: 1 }),
        );
      }
      const pop = jest.spyOn(StableHeap.prototype, 'pop');
      try {
        // every stale entry (deadlines of earlier bodies) is due now; the live one is not
        expect(assembler.expire(at(1_000_499))).toBe(0);
        // without compaction this would pop ~500 stale entries; with it, at most 2·open + 64
        expect(pop.mock.calls.length).toBeLessThanOrEqual(2 * 1 + 64);
        expect(assembler.openCount).toBe(2);
        expect(assembler.expire(at(1_000_500))).toBe(1);
        expect(assembler.expire(MAX_TIME_TICK)).toBe(0);
      } finally {
        pop.mockRestore();
      }
      expect(assembler.openCount).toBe(1);
    });

    it('expiry cost does not scan the open transactions: 10,000 open, a tick that expires nothing is O(1)', () => {
      const { events, outcomes } = recordEvents();
      const assembler = new TxnAssembler(events);
      for (let t = 1; t <= 10_000; t++) {
        assembler.handle(
          createMessage({
            id: t,
            type: 'BeginTxn',
            timeTick: at(t % 100),
            txn: { txnId: t, keepalive: '1h' },
          }),
        );
      }
      assembler.handle(
        createMessage({
          id: 10_001,
          type: 'BeginTxn',
          timeTick: at(0),
          txn: { txnId: 10_001, keepalive: 50 },
        }),
      );
      expect(assembler.openCount).toBe(10_001);

      const peekKey = jest.spyOn(StableHeap.prototype, 'peekKey');
      const pop = jest.spyOn(StableHeap.prototype, 'pop');
      const toArray = jest.spyOn(StableHeap.prototype, 'toArray');
      const mapScans = [
        jest.spyOn(Map.prototype, 'values'),
        jest.spyOn(Map.prototype, 'keys'),
        jest.spyOn(Map.prototype, 'entries'),
        jest.spyOn(Map.prototype, 'forEach'),
        jest.spyOn(Map.prototype, Symbol.iterator),
      ];
      try {
        expect(assembler.expire(at(49))).toBe(0);
        expect(pop).not.toHaveBeenCalled();
        expect(peekKey).toHaveBeenCalledTimes(1);
        expect(toArray).not.toHaveBeenCalled();
        for (const scan of mapScans) expect(scan).not.toHaveBeenCalled();

        // the one short transaction expires with one pop, not a sweep over 10,001 builders
        expect(assembler.expire(at(50))).toBe(1);
        expect(pop).toHaveBeenCalledTimes(1);
        for (const scan of mapScans) expect(scan).not.toHaveBeenCalled();
      } finally {
        jest.restoreAllMocks();
      }
      expect(outcomes).toEqual([['expired', 10_001n]]);
      expect(assembler.openCount).toBe(10_000);
    });
  });

  describe('bodies', () => {
    it('a body on another vchannel is accepted (bodies were vchannel-filtered individually)', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      const txn = { txnId: 7 };
      assembler.handle(
        createMessage({ id: 1, type: 'BeginTxn', timeTick: 1, vchannel: 'v1', txn }),
      );
      assembler.handle(createMessage({ id: 2, type: 'Insert', timeTick: 2, vchannel: 'v2', txn }));
      assembler.handle(createMessage({ id: 3, type: 'Delete', timeTick: 3, vchannel: '', txn }));
      const result = asTxn(
        assembler.handle(
          createMessage({ id: 4, type: 'CommitTxn', timeTick: 4, vchannel: 'v1', txn }),
        ),
      );
      expect(result.vchannel).toBe('v1');
      expect(result.body.map((m) => [m.id.key, m.type, m.vchannel, m.timeTick])).toEqual([
        ['2', 'Insert', 'v2', 4n],
        ['3', 'Delete', '', 4n],
      ]);
    });

    it('interleaved transactions collect only their own bodies', () => {
      const assembler = new TxnAssembler(recordEvents().events);
      const a = { txnId: 1 };
      const b = { txnId: 2 };
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: 1, txn: a }));
      assembler.handle(createMessage({ id: 2, type: 'BeginTxn', timeTick: 2, txn: b }));
      assembler.handle(createMessage({ id: 3, type: 'Insert', timeTick: 3, txn: a }));
      assembler.handle(createMessage({ id: 4, type: 'Insert', timeTick: 4, txn: b }));
      assembler.handle(createMessage({ id: 5, type: 'Insert', timeTick: 5, txn: a }));
      const txnB = asTxn(
        assembler.handle(createMessage({ id: 6, type: 'CommitTxn', timeTick: 6, txn: b })),
      );
      const txnA = asTxn(
        assembler.handle(createMessage({ id: 7, type: 'CommitTxn', timeTick: 7, txn: a })),
      );
      expect(txnA.body.map((m) => m.id.key)).toEqual(['3', '5']);
      expect(txnB.body.map((m) => m.id.key)).toEqual(['4']);
    });

    it('a repeated commit is ignored after the first one emitted the Txn', () => {
      const { events, outcomes, anomalies } = recordEvents();
      const assembler = new TxnAssembler(events);
      const txn = { txnId: 7 };
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: 1, txn }));
      expect(
        assembler.handle(createMessage({ id: 2, type: 'CommitTxn', timeTick: 2, txn })),
      ).toBeDefined();
      expect(
        assembler.handle(createMessage({ id: 2, type: 'CommitTxn', timeTick: 2, txn })),
      ).toBeUndefined();
      expect(outcomes).toEqual([['committed', 7n]]);
      expect(anomalies).toEqual([
        ['commit without an open transaction ignored (may be a repeated commit)', '2'],
      ]);
    });
  });

  describe('failures', () => {
    it('a transaction that cannot be assembled is dropped and counted as error', () => {
      const { events, outcomes, anomalies } = recordEvents();
      const assembler = new TxnAssembler(events);
      const txn = { txnId: 7 };
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: 1, txn, size: 2 }));
      const real = createMessage({ id: 2, type: 'Insert', timeTick: 2, txn, size: 3 });
      // a body whose fields cannot be copied: building the Txn fails
      const broken = new Proxy(real, {
        ownKeys() {
          throw new Error('unreadable body');
        },
      });
      assembler.handle(broken);
      expect(assembler.bytes).toBe(5);
      expect(
        assembler.handle(createMessage({ id: 3, type: 'CommitTxn', timeTick: 3, txn })),
      ).toBeUndefined();
      expect(outcomes).toEqual([['error', 7n]]);
      expect(anomalies).toEqual([
        ['transaction could not be assembled: Error: unreadable body', '3'],
      ]);
      expect([assembler.bytes, assembler.openCount]).toEqual([0, 0]);
    });

    it('a throwing outcome sink on commit propagates and is not reported as an assembly error', () => {
      const outcomes: TxnOutcome[] = [];
      const anomalies: string[] = [];
      const sinkError = new Error('sink down');
      const assembler = new TxnAssembler({
        outcome: (outcome) => {
          outcomes.push(outcome);
          if (outcome === 'committed') throw sinkError;
        },
        anomaly: (reason) => anomalies.push(reason),
      });
      const txn = { txnId: 7 };
      assembler.handle(createMessage({ id: 1, type: 'BeginTxn', timeTick: 1, txn }));
      expect(() =>
        assembler.handle(createMessage({ id: 2, type: 'CommitTxn', timeTick: 2, txn })),
      ).toThrow(sinkError);
      expect(outcomes).toEqual(['committed']);
      expect(anomalies).toEqual([]);
    });
  });
});
