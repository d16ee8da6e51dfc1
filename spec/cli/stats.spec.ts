import { readWalStats } from '../../lib/cli/walStats.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';
import { closeHarnessWals, harness } from './harness.js';
import { sampleWal, t, T0_DATE } from './fixtures.js';

describe('rxwal stats (in-process, memory WAL)', () => {
  afterEach(closeHarnessWals);

  it('counts a log by reading it when the backend has no stats of its own', async () => {
    const stats = await readWalStats(sampleWal().readOnly());
    expect(stats).toEqual({
      channel: 'p0',
      messages: 10,
      firstId: expect.objectContaining({ key: '1' }),
      lastId: expect.objectContaining({ key: '10' }),
      byType: { BeginTxn: 2, CommitTxn: 1, Delete: 1, Insert: 4, TimeTick: 2 },
      byVChannel: { '': 2, v1: 6, v2: 2 },
      timeTicks: { min: t(0), max: t(9) },
      openTransactions: [
        { txnId: 9n, vchannel: 'v2', beginId: expect.objectContaining({ key: '10' }), messages: 1 },
      ],
    });
  });

  it('prints the counts, the tick range as dates and the open transactions', async () => {
    const h = harness({ wal: sampleWal() });
    await expect(h.run('stats', 'log.db')).resolves.toBe(0);
    expect(h.stdout.text).toBe(
      [
        'log.db (channel p0)',
        '  messages      10, ids 1..10',
        `  time ticks    ${T0_DATE} .. ${T0_DATE} (0 ms)`,
        '  by type',
        '    BeginTxn            2',
        '    CommitTxn           1',
        '    Delete              1',
        '    Insert              4',
        '    TimeTick            2',
        '  by vchannel',
        "    '' (all)           2",
        '    v1                 6',
        '    v2                 2',
        '  open transactions  1',
        '    txn 9 on v2: begin #10, 1 messages',
        '',
      ].join('\n'),
    );
    expect(h.opened).toEqual([{ path: 'log.db', readOnly: true }]);
    expect(h.closed).toEqual(['log.db']);
  });

  it('prints JSON with --format json, using the backend stats when there are', async () => {
    const wal = sampleWal();
    const h = harness({ wal });
    const backendStats = {
      ...(await readWalStats(wal.readOnly())),
      fileBytes: 4096,
      payloadCodec: 'raw',
    };
    const open = h.deps.openWal;
    h.deps.openWal = async (path, options) =>
      Object.assign(await open(path, options), { stats: () => backendStats });
    await expect(h.run('stats', 'log.db', '--format', 'json')).resolves.toBe(0);
    expect(JSON.parse(h.stdout.text)).toEqual({
      channel: 'p0',
      messages: 10,
      firstId: '1',
      lastId: '10',
      byType: { BeginTxn: 2, CommitTxn: 1, Delete: 1, Insert: 4, TimeTick: 2 },
      byVChannel: { '': 2, v1: 6, v2: 2 },
      timeTicks: { min: String(t(0)), max: String(t(9)), from: T0_DATE, to: T0_DATE },
      openTransactions: [{ txnId: '9', vchannel: 'v2', beginId: '10', messages: 1 }],
      fileBytes: 4096,
      payloadCodec: 'raw',
    });
  });

  it('reports an empty log', async () => {
    const h = harness({ wal: createMemoryWal({ channel: 'e' }) });
    await h.run('stats', 'log.db', '--format', 'json');
    expect(JSON.parse(h.stdout.text)).toMatchObject({
      messages: 0,
      firstId: null,
      lastId: null,
      timeTicks: null,
      openTransactions: [],
    });
  });
});
