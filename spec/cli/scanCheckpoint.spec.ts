import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeCheckpoint } from '../../lib/checkpoint/checkpoint.js';
import { ExitCode } from '../../lib/cli/errors.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';
import { Captured, closeHarnessWals, harness } from './harness.js';
import { PRETTY, sampleWal, t, T0_DATE } from './fixtures.js';

describe('rxwal scan --checkpoint FILE', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxwal-cli-cp-'));
  });
  afterEach(async () => {
    await closeHarnessWals();
    rmSync(dir, { recursive: true, force: true });
  });

  it('saves where it stopped and a second run prints only what came after, nothing twice', async () => {
    const file = join(dir, 'scan.checkpoint');
    const wal = sampleWal();
    const first = harness({ wal });
    await expect(first.run('scan', 'log.db', '--checkpoint', file)).resolves.toBe(ExitCode.Ok);
    expect(first.stdout.text).toBe([PRETTY[3], PRETTY[2], PRETTY[6], PRETTY[7]].join('\n') + '\n');
    // the last message handled is the time tick #8 (not printed, but handled)
    const saved = decodeCheckpoint(readFileSync(file, 'utf8'));
    expect([saved.timeTick, saved.id.key]).toEqual([t(7), '8']);

    const again = harness({ wal });
    await expect(again.run('scan', 'log.db', '--checkpoint', file)).resolves.toBe(0);
    expect(again.stdout.text).toBe('');

    wal.appendRaw({ type: 'Insert', vchannel: 'v2', timeTick: t(10), payload: 'y' });
    wal.appendRaw({ type: 'TimeTick', timeTick: t(11) });
    const third = harness({ wal });
    await expect(third.run('scan', 'log.db', '--checkpoint', file)).resolves.toBe(0);
    expect(third.stdout.lines).toEqual([
      `${T0_DATE}  Insert v1 @${t(8)} #9  {"pk":3}`,
      `${T0_DATE}  Insert v2 @${t(10)} #11  "y"`,
    ]);
  });

  it('a --follow pipeline stopped by the signal mid-stream and restarted, again and again, prints every line once', async () => {
    // 60 records: inserts on two vchannels, a transaction, a time tick every 5th record
    const wal = createMemoryWal({ channel: 'p0' });
    const txn = { txnId: 3n, keepalive: Infinity };
    for (let i = 1; i <= 60; i++) {
      if (i % 5 === 0) wal.appendRaw({ type: 'TimeTick', timeTick: t(i) });
      else if (i === 21) wal.appendRaw({ type: 'BeginTxn', vchannel: 'v1', timeTick: t(i), txn });
      else if (i === 22 || i === 24) {
        wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: t(i), txn, payload: { i } });
      } else if (i === 26)
        wal.appendRaw({ type: 'CommitTxn', vchannel: 'v1', timeTick: t(i), txn });
      else wal.appendRaw({ type: 'Insert', vchannel: `v${i % 2}`, timeTick: t(i), payload: { i } });
    }
    const whole = harness({ wal });
    await expect(whole.run('scan', 'log.db')).resolves.toBe(ExitCode.Ok);
    const full = whole.stdout.lines;
    expect(full).toHaveLength(47); // 44 inserts, and a Txn of two inserts on three lines

    const file = join(dir, 'pipeline.checkpoint');
    const printed: string[] = [];
    let runs = 0;
    while (printed.length < full.length) {
      // a slow stdout keeps the scan mid-stream when the signal comes
      const stdout = new Captured({ highWaterMark: 64, delayMs: 1 });
      const h = harness({ wal, stdout });
      const exit = h.run('scan', 'log.db', '--follow', '--checkpoint', file);
      const wanted = Math.min(7, full.length - printed.length);
      await stdout.waitFor((text) => text.split('\n').length > wanted);
      h.abort.abort(); // Ctrl-C / SIGTERM
      await expect(exit).resolves.toBe(ExitCode.Ok);
      printed.push(...stdout.lines);
      expect(++runs).toBeLessThanOrEqual(full.length);
    }
    expect(printed).toEqual(full);
    expect(runs).toBeGreaterThan(3); // the stops really landed mid-stream
    const after = harness({ wal });
    await expect(after.run('scan', 'log.db', '--checkpoint', file)).resolves.toBe(ExitCode.Ok);
    expect(after.stdout.text).toBe('');
  });

  it('a missing file starts from --from; the file, once there, wins over it', async () => {
    const file = join(dir, 'cp');
    const wal = sampleWal();
    const first = harness({ wal });
    await first.run('scan', 'log.db', '--checkpoint', file, '--after', '3');
    expect(first.stdout.text).toBe([PRETTY[6], PRETTY[7]].join('\n') + '\n');
    expect(existsSync(file)).toBe(true);
    const second = harness({ wal });
    await second.run('scan', 'log.db', '--checkpoint', file, '--from', 'all');
    expect(second.stdout.text).toBe('');
  });

  it('a file that is not a checkpoint is an error naming the file, and is left alone', async () => {
    const file = join(dir, 'bad');
    writeFileSync(file, 'offset=17\n');
    const h = harness({ wal: sampleWal() });
    const code = await h.run('scan', 'log.db', '--checkpoint', file);
    expect(code).not.toBe(ExitCode.Ok);
    expect(h.stderr.text).toContain(`--checkpoint ${file}`);
    expect(h.stdout.text).toBe('');
    expect(readFileSync(file, 'utf8')).toBe('offset=17\n');
  });

  it('is described in scan --help', async () => {
    const h = harness();
    await h.run('scan', '--help');
    expect(h.stdout.text).toContain('--checkpoint <file>');
  });
});
