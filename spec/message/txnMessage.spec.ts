import { createMessage } from '../../lib/message/createMessage.js';
import { isTxnMessage, MessageType, type WalMessage } from '../../lib/message/message.js';
import { buildTxnMessage } from '../../lib/message/txnMessage.js';

const TXN = { txnId: 9n, keepalive: '10s' } as const;

/**
 * Reference §8.3 "Txn fields" row: Begin(id 4, tt 101, v1, T), body (id 5, tt 104), Commit(id 7,
 * tt 106). Last-confirmed ids differ on purpose (another transaction begun at id 2 was still open
 * when the commit was written) so that re-stamping is visible.
 */
function txnFieldsRow() {
  const begin = createMessage({
    id: 4,
    type: MessageType.BeginTxn,
    timeTick: 101n,
    vchannel: 'v1',
    txn: TXN,
    size: 3,
  });
  const body = createMessage({
    id: 5,
    type: MessageType.Insert,
    timeTick: 104n,
    vchannel: 'v1',
    lastConfirmedId: 4,
    txn: TXN,
    payload: 'row-5',
    properties: { table: 't1' },
  });
  const commit = createMessage({
    id: 7,
    type: MessageType.CommitTxn,
    timeTick: 106n,
    vchannel: 'v1',
    lastConfirmedId: 2,
    txn: { txnId: 9n, keepalive: '20s' },
    properties: { committedBy: 'writer-1' },
    size: 11,
  });
  return { begin, body, commit };
}

describe('buildTxnMessage (reference §1.12 Txn message fields, §8.3 "Txn fields")', () => {
  const { begin, body, commit } = txnFieldsRow();
  const txn = buildTxnMessage(begin, [body], commit);

  it('type is Txn', () => {
    expect(txn.type).toBe('Txn');
    expect(txn.type).toBe(MessageType.Txn);
  });

  it("MessageID is the commit's id (7)", () => {
    expect(txn.id).toBe(commit.id);
    expect(txn.id.key).toBe('7');
  });

  it("TimeTick is the commit's time tick (106)", () => {
    expect(txn.timeTick).toBe(106n);
  });

  it("VChannel is the begin's vchannel (v1)", () => {
    expect(txn.vchannel).toBe('v1');
  });

  it("VChannel comes from the begin even when the commit's differs", () => {
    const otherCommit = createMessage({
      id: 8,
      type: 'CommitTxn',
      timeTick: 107n,
      vchannel: 'v9',
      txn: TXN,
    });
    expect(buildTxnMessage(begin, [body], otherCommit).vchannel).toBe('v1');
  });

  it("LastConfirmedMessageID is the commit's last-confirmed id", () => {
    expect(txn.lastConfirmedId).toBe(commit.lastConfirmedId);
    expect(txn.lastConfirmedId.key).toBe('2');
  });

  it("TxnContext is the commit's", () => {
    expect(txn.txn).toBe(commit.txn);
    expect(txn.txn).toEqual({ txnId: 9n, keepaliveMs: 20_000 });
  });

  it("properties are the commit's", () => {
    expect(txn.properties).toBe(commit.properties);
    expect(txn.properties).toEqual({ committedBy: 'writer-1' });
  });

  it('persisted is true, payload undefined', () => {
    expect(txn.persisted).toBe(true);
    expect(txn.payload).toBeUndefined();
  });

  it('Begin() / Commit() are the original messages', () => {
    expect(txn.begin).toBe(begin);
    expect(txn.commit).toBe(commit);
  });

  it("body is a copy of id 5 with tt 106 and the commit's last-confirmed id", () => {
    expect(txn.body).toHaveLength(1);
    const copy = txn.body[0] as WalMessage;
    expect(copy).not.toBe(body);
    expect(copy.id).toBe(body.id);
    expect(copy.id.key).toBe('5');
    expect(copy.timeTick).toBe(106n);
    expect(copy.lastConfirmedId).toBe(commit.lastConfirmedId);
    expect(copy.lastConfirmedId.key).toBe('2');
  });

  it('body copies keep every other field of the original', () => {
    const copy = txn.body[0] as WalMessage;
    expect(copy.type).toBe('Insert');
    expect(copy.vchannel).toBe('v1');
    expect(copy.txn).toBe(body.txn);
    expect(copy.persisted).toBe(true);
    expect(copy.properties).toBe(body.properties);
    expect(copy.payload).toBe('row-5');
    expect(copy.size).toBe(body.size);
  });

  it('original messages are not mutated', () => {
    expect(body.timeTick).toBe(104n);
    expect(body.lastConfirmedId.key).toBe('4');
    expect(begin.timeTick).toBe(101n);
    expect(commit.timeTick).toBe(106n);
  });

  it('EstimateSize is the sum of the body sizes only (begin and commit not counted)', () => {
    expect(body.size).toBe(5 + 5 + 2); // 'row-5' + 'table' + 't1'
    expect(txn.size).toBe(12);
  });

  it('the Txn message, its body list and the body copies are frozen', () => {
    expect(Object.isFrozen(txn)).toBe(true);
    expect(Object.isFrozen(txn.body)).toBe(true);
    expect(Object.isFrozen(txn.body[0])).toBe(true);
  });
});

describe('buildTxnMessage with several or no bodies', () => {
  const { begin, commit } = txnFieldsRow();

  it('keeps body order, re-stamps each, sums sizes', () => {
    const bodies = [102n, 103n, 105n].map((timeTick, i) =>
      createMessage({
        id: 10 + i,
        type: 'Insert',
        timeTick,
        vchannel: 'v1',
        txn: TXN,
        size: 100 * (i + 1),
      }),
    );
    const txn = buildTxnMessage(begin, bodies, commit);
    expect(txn.body.map((m) => m.id.key)).toEqual(['10', '11', '12']);
    expect(txn.body.map((m) => m.timeTick)).toEqual([106n, 106n, 106n]);
    expect(txn.body.map((m) => m.lastConfirmedId.key)).toEqual(['2', '2', '2']);
    expect(txn.size).toBe(600);
    expect(bodies.map((m) => m.timeTick)).toEqual([102n, 103n, 105n]);
  });

  it('an empty transaction has no body and size 0', () => {
    const txn = buildTxnMessage(begin, [], commit);
    expect(txn.body).toEqual([]);
    expect(txn.size).toBe(0);
    expect(txn.timeTick).toBe(106n);
    expect(isTxnMessage(txn)).toBe(true);
  });

  it('does not keep a reference to the body array it was given', () => {
    const { body } = txnFieldsRow();
    const bodies = [body];
    const txn = buildTxnMessage(begin, bodies, commit);
    bodies.push(body);
    expect(txn.body).toHaveLength(1);
  });
});

describe('isTxnMessage', () => {
  it('is true for an assembled Txn message', () => {
    const { begin, body, commit } = txnFieldsRow();
    const txn: WalMessage = buildTxnMessage(begin, [body], commit);
    expect(isTxnMessage(txn)).toBe(true);
    if (isTxnMessage(txn)) expect(txn.body).toHaveLength(1); // narrows to TxnMessage
  });

  it('is false for a plain message, even one of type Txn without a body', () => {
    const { begin, body, commit } = txnFieldsRow();
    expect(isTxnMessage(body)).toBe(false);
    expect(isTxnMessage(begin)).toBe(false);
    expect(isTxnMessage(commit)).toBe(false);
    expect(isTxnMessage(createMessage({ id: 1, type: 'Txn', timeTick: 1n }))).toBe(false);
  });
});
