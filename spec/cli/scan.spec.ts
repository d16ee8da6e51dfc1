import { BehaviorSubject } from 'rxjs';

import { ExitCode } from '../../lib/cli/errors.js';
import { ReadProgress } from '../../lib/cli/logEnd.js';
import { renderProgress } from '../../lib/cli/progressBar.js';
import { CorruptRecordError } from '../../lib/errors.js';
import { messageId } from '../../lib/message/messageId.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';
import { Captured, closeHarnessWals, harness } from './harness.js';
import { PRETTY, sampleWal, t, T0_DATE } from './fixtures.js';

describe('rxwal scan (in-process, memory WAL)', () => {
  afterEach(closeHarnessWals);

  it('prints every released message in tick order and stops at the end of the log', async () => {
    const h = harness({ wal: sampleWal() });
    await expect(h.run('scan', 'log.db')).resolves.toBe(ExitCode.Ok);
    // #9 (after the last tick) and the open txn 9 are not released: the scan ends without them
    expect(h.stdout.text).toBe([PRETTY[3], PRETTY[2], PRETTY[6], PRETTY[7]].join('\n') + '\n');
    expect(h.stderr.text).toBe('');
    expect(h.opened).toEqual([{ path: 'log.db', readOnly: true }]);
    expect(h.closed).toEqual(['log.db']);
  });

  it('keeps one vchannel with --vchannel', async () => {
    const h = harness({ wal: sampleWal() });
    await expect(h.run('scan', 'log.db', '--vchannel', 'v1')).resolves.toBe(0);
    expect(h.stdout.lines.join('\n')).toBe([PRETTY[2], PRETTY[6], PRETTY[7]].join('\n'));
  });

  it('prints time ticks too with --time-ticks', async () => {
    const h = harness({ wal: sampleWal() });
    await h.run('scan', 'log.db', '--vchannel', 'v2', '--time-ticks');
    expect(h.stdout.lines).toEqual([
      `${T0_DATE}  TimeTick @${t(0)} #1`,
      PRETTY[3],
      `${T0_DATE}  TimeTick @${t(7)} #8`,
    ]);
  });

  it('starts where --from and --after say', async () => {
    const from = harness({ wal: sampleWal() });
    await expect(from.run('scan', 'log.db', '--from', '3')).resolves.toBe(0);
    expect(from.stdout.lines.join('\n')).toBe([PRETTY[3], PRETTY[6], PRETTY[7]].join('\n'));
    const after = harness({ wal: sampleWal() });
    await expect(after.run('scan', 'log.db', '--after', '3')).resolves.toBe(0);
    expect(after.stdout.lines.join('\n')).toBe([PRETTY[6], PRETTY[7]].join('\n'));
    const all = harness({ wal: sampleWal() });
    await expect(all.run('scan', 'log.db', '--from', 'all', '--vchannel', 'v2')).resolves.toBe(0);
    expect(all.stdout.lines).toEqual([PRETTY[3]]);
  });

  it('prints nothing and exits at once with --from latest or an id past the end', async () => {
    for (const args of [
      ['--from', 'latest'],
      ['--from', '11'],
      ['--after', '10'],
    ]) {
      const h = harness({ wal: sampleWal() });
      await expect(h.run('scan', 'log.db', ...args)).resolves.toBe(0);
      expect(h.stdout.text).toBe('');
    }
  });

  it('ends at once on an empty log', async () => {
    const h = harness({ wal: createMemoryWal() });
    await expect(h.run('scan', 'log.db')).resolves.toBe(0);
    expect(h.stdout.text).toBe('');
  });

  it('keeps the --type data types (repeatable) and ticks above --since-tick', async () => {
    const types = harness({ wal: sampleWal() });
    await types.run('scan', 'log.db', '--type', 'Delete');
    // the Txn passes a type filter as a system type, but its only body (an Insert) does not:
    // no empty transaction line (issue 10)
    expect(types.stdout.lines).toEqual([PRETTY[7]]);
    const inTxn = harness({ wal: sampleWal() });
    await inTxn.run('scan', 'log.db', '--type', 'Insert', '--vchannel', 'v1');
    expect(inTxn.stdout.text).toBe([PRETTY[2], PRETTY[6]].join('\n') + '\n'); // bodies kept
    const both = harness({ wal: sampleWal() });
    await both.run('scan', 'log.db', '--type', 'Delete', '--type', 'Insert', '--vchannel', 'v2');
    expect(both.stdout.lines).toEqual([PRETTY[3]]);
    const since = harness({ wal: sampleWal() });
    await since.run('scan', 'log.db', '--since-tick', String(t(2)));
    expect(since.stdout.lines.join('\n')).toBe([PRETTY[6], PRETTY[7]].join('\n'));
    const date = harness({ wal: sampleWal() });
    await date.run('scan', 'log.db', '--since-tick', '2025-01-01T12:00:00.001Z');
    expect(date.stdout.text).toBe('');
  });

  it('writes JSON lines with bigints as strings and the Txn body with --format json', async () => {
    const h = harness({ wal: sampleWal() });
    await expect(h.run('scan', 'log.db', '--format', 'json', '--vchannel', 'v1')).resolves.toBe(0);
    const lines = h.stdout.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(h.stdout.lines[0]).toMatch(/^\{"schema":1,"id":"2",/); // the version comes first
    expect(lines[0]).toEqual({
      schema: 1,
      id: '2',
      type: 'Insert',
      timeTick: String(t(2)),
      time: T0_DATE,
      vchannel: 'v1',
      lastConfirmedId: '2',
      persisted: true,
      properties: {},
      payload: { pk: 1 },
      size: expect.any(Number),
    });
    expect(lines[1]).toMatchObject({
      schema: 1,
      id: '6',
      type: 'Txn',
      timeTick: String(t(5)),
      txn: { txnId: '7', keepaliveMs: 3_600_000 },
      beginId: '4',
      body: [
        {
          id: '5',
          type: 'Insert',
          timeTick: String(t(5)),
          lastConfirmedId: '6',
          txn: { txnId: '7', keepaliveMs: 3_600_000 },
          payload: { pk: 2 },
        },
      ],
    });
    expect(lines[2]).toMatchObject({ id: '7', type: 'Delete', properties: { reason: 'ttl' } });
    expect((lines[1]?.body as object[])[0]).not.toHaveProperty('schema'); // only on the line
  });

  it('does not print records appended after it started, without --follow', async () => {
    const wal = sampleWal();
    const h = harness({ wal });
    const open = h.deps.openWal;
    h.deps.openWal = async (path, options) => {
      const opened = await open(path, options);
      const view = wal.readOnly();
      let appended = false;
      opened.readOnly = () => ({
        channel: view.channel,
        accessMode: view.accessMode,
        read: (policy: DeliverPolicy) => {
          const reader = view.read(policy);
          if (policy.kind === 'latest' && !appended) {
            // the scan has just fixed its end (#10): these arrive right after
            appended = true;
            wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: t(20), payload: 'late' });
            wal.appendRaw({ type: 'TimeTick', timeTick: t(21) });
          }
          return reader;
        },
      });
      return opened;
    };
    await expect(h.run('scan', 'log.db', '--vchannel', 'v1')).resolves.toBe(0);
    expect(h.stdout.lines.join('\n')).toBe([PRETTY[2], PRETTY[6], PRETTY[7]].join('\n'));
    // the same log scanned again now includes them: #9 and #11 released by the tick #12
    const again = harness({ wal });
    await again.run('scan', 'log.db', '--vchannel', 'v1', '--after', '7');
    expect(again.stdout.lines).toEqual([
      `${T0_DATE}  Insert v1 @${t(8)} #9  {"pk":3}`,
      `${T0_DATE}  Insert v1 @${t(20)} #11  "late"`,
    ]);
  });

  it('--follow prints what arrives later and ends cleanly when the signal aborts', async () => {
    const wal = sampleWal();
    const h = harness({ wal });
    const exit = h.run('scan', 'log.db', '--follow', '--vchannel', 'v1');
    await h.stdout.waitFor((text) => text.includes('#7'));
    wal.appendRaw({ type: 'TimeTick', timeTick: t(10) }); // releases #9
    await h.stdout.waitFor((text) => text.includes('#9'));
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: t(11), payload: 'new' });
    wal.appendRaw({ type: 'TimeTick', timeTick: t(12) });
    await h.stdout.waitFor((text) => text.includes('"new"'));
    h.abort.abort();
    await expect(exit).resolves.toBe(ExitCode.Ok);
    expect(h.stdout.lines.slice(-2)).toEqual([
      `${T0_DATE}  Insert v1 @${t(8)} #9  {"pk":3}`,
      `${T0_DATE}  Insert v1 @${t(11)} #12  "new"`,
    ]);
    expect(h.closed).toEqual(['log.db']);
  });

  it('Ctrl-C during a catch-up stops after the line being printed, not after the whole backlog', async () => {
    const wal = createMemoryWal();
    for (let i = 1; i <= 3000; i++) {
      if (i % 5 === 0) wal.appendRaw({ type: 'TimeTick', timeTick: t(i) });
      else wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: t(i), payload: { i } });
    }
    const stdout = new Captured({ highWaterMark: 64, delayMs: 0 });
    const h = harness({ wal, stdout });
    const exit = h.run('scan', 'log.db', '--follow');
    await stdout.waitFor((text) => text.split('\n').length > 10);
    const printedAtSignal = stdout.lines.length;
    h.abort.abort();
    await expect(exit).resolves.toBe(ExitCode.Ok);
    // the scanner's queue never empties while it catches up: draining it printed all 2,400
    expect(stdout.lines.length).toBeLessThanOrEqual(printedAtSignal + 1);
    expect(h.closed).toEqual(['log.db']);
  });

  it('holds output for a slow stdout and still prints every message in order', async () => {
    const wal = createMemoryWal();
    for (let i = 1; i <= 2000; i++) {
      wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: t(i), payload: { i } });
      if (i % 100 === 0) wal.appendRaw({ type: 'TimeTick', timeTick: t(i) });
    }
    const stdout = new Captured({ highWaterMark: 256, delayMs: 0 });
    const h = harness({ wal, stdout });
    await expect(h.run('scan', 'log.db', '--format', 'json')).resolves.toBe(0);
    const ids = stdout.lines.map(
      (line) => (JSON.parse(line) as { payload: { i: number } }).payload.i,
    );
    expect(ids).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });

  it('stops quietly when stdout goes away (a closed pipe)', async () => {
    const wal = createMemoryWal();
    for (let i = 1; i <= 500; i++) wal.appendRaw({ type: 'Insert', timeTick: t(i) });
    wal.appendRaw({ type: 'TimeTick', timeTick: t(501) });
    const stdout = new Captured({ highWaterMark: 64, delayMs: 1 });
    const h = harness({ wal, stdout });
    const exit = h.run('scan', 'log.db', '--follow');
    await stdout.waitFor((text) => text.includes('#3'));
    stdout.destroy();
    await expect(exit).resolves.toBe(ExitCode.Ok);
    expect(stdout.lines.length).toBeLessThan(500);
    expect(h.closed).toEqual(['log.db']);
  });

  it('draws a progress bar on a terminal stderr, and erases it once caught up', async () => {
    const h = harness({ wal: sampleWal(), isTTY: true });
    await expect(h.run('scan', 'log.db')).resolves.toBe(0);
    expect(h.stderr.text).toContain('\r\x1b[Kcatch-up [');
    expect(h.stderr.text).toMatch(/catch-up \[#{24}\] {2}10 read {2}[\d,]+\/s {2}lag 0/);
    expect(h.stderr.text.endsWith('\r\x1b[K')).toBe(true);
    expect(h.stdout.text).toBe([PRETTY[3], PRETTY[2], PRETTY[6], PRETTY[7]].join('\n') + '\n');
  });

  it('draws the first frame empty, before anything was read (not full)', async () => {
    const h = harness({ wal: sampleWal(), isTTY: true });
    await expect(h.run('scan', 'log.db')).resolves.toBe(0);
    const frames = h.stderr.text.split('\r\x1b[K').filter((frame) => frame !== '');
    expect(frames[0]).toMatch(/^catch-up \[\.{24}\] {2}0 read {2}0\/s {2}lag \?$/);
    expect(frames[frames.length - 1]).toMatch(/^catch-up \[#{24}\] {2}10 read /);
    expect(renderProgress(new ReadProgress(messageId(10n)), 0)).toBe(
      'catch-up [........................]  0 read  0/s  lag ?',
    );
    expect(renderProgress(new ReadProgress(undefined), 0)).toMatch(/^catch-up \[#{24}\] {2}0 read/); // an empty log
  });

  it('writes nothing on stderr when it is not a terminal', async () => {
    const h = harness({ wal: sampleWal(), isTTY: false });
    await h.run('scan', 'log.db');
    expect(h.stderr.text).toBe('');
  });

  it('holds the start while the pause switch says true', async () => {
    const pause$ = new BehaviorSubject(true);
    let closed = false;
    const h = harness({ wal: sampleWal() });
    h.deps.pauseFromFile = () => ({ pause$, close: () => void (closed = true) });
    const exit = h.run('scan', 'log.db', '--pause-file', 'pause.json', '--vchannel', 'v1');
    await h.stderr.waitFor((text) => text.includes('paused by pause.json'));
    expect(h.stdout.text).toBe('');
    pause$.next(false);
    await expect(exit).resolves.toBe(0);
    expect(h.stdout.lines.join('\n')).toBe([PRETTY[2], PRETTY[6], PRETTY[7]].join('\n'));
    expect(h.stderr.lines).toEqual([
      'rxwal: paused by pause.json (waiting for "pauseConsumption": false)',
      'rxwal: resumed by pause.json',
    ]);
    expect(closed).toBe(true);
  });

  it('ends with exit code 4 naming the record when a record is corrupt', async () => {
    const wal = sampleWal();
    const h = harness({ wal });
    const open = h.deps.openWal;
    h.deps.openWal = async (path, options) => {
      const opened = await open(path, options);
      const view = wal.readOnly();
      opened.readOnly = () => ({
        ...view,
        read: (policy: DeliverPolicy) => {
          const reader = view.read(policy);
          return {
            next: async () => {
              await reader.next(2);
              throw new CorruptRecordError('3', 'checksum mismatch');
            },
            close: () => reader.close(),
            ...(reader.resolvedPolicy === undefined
              ? {}
              : { resolvedPolicy: reader.resolvedPolicy }),
          };
        },
      });
      return opened;
    };
    await expect(h.run('scan', 'log.db')).resolves.toBe(ExitCode.CorruptRecord);
    expect(h.stderr.text).toBe('rxwal: corrupt record 3: checksum mismatch\n');
    expect(h.closed).toEqual(['log.db']);
  });
});
