/**
 * The writer of the crash test (spec/sqlite/processes.spec.ts): appends plain messages, concurrent
 * batches and transactions (committed, rolled back, left open) for ever, and prints one JSON line
 * per acknowledged append (its id, type, tick and payload) the moment it is acknowledged. The
 * test kills it with SIGKILL.
 */
import type { WalMessage } from '../../../lib/index.js';
import { openSqliteWal } from '../../../lib/sqlite/index.js';

const ack = (m: WalMessage): void => {
  process.stdout.write(
    `${JSON.stringify({ id: m.id.key, type: m.type, tick: String(m.timeTick), payload: m.payload === undefined ? null : String(m.payload) })}\n`,
  );
};

async function main(): Promise<void> {
  const path = process.argv[2] as string;
  const wal = await openSqliteWal(path, { channel: 'crash', timeTickInterval: '5ms' });
  let n = 0;
  const payload = (): Buffer => Buffer.from(`p${++n}`);
  for (;;) {
    const r = Math.random();
    if (r < 0.35) {
      ack(await wal.append({ type: 'Insert', vchannel: 'v1', payload: payload() }));
    } else if (r < 0.55) {
      const batch = await Promise.all(
        ['v1', 'v2', 'v1'].map((vchannel) =>
          wal.append({ type: 'Insert', vchannel, payload: payload() }),
        ),
      );
      batch.forEach(ack);
    } else {
      const txn = await wal.beginTxn({ vchannel: r < 0.75 ? 'v1' : 'v2' });
      ack(txn.begin);
      for (let i = 0; i < 1 + Math.floor(Math.random() * 3); i++)
        ack(await txn.append({ type: 'Insert', payload: payload() }));
      if (r < 0.85) ack(await txn.commit());
      else if (r < 0.95) ack(await txn.rollback());
      // else: left open, as a crash would leave it
    }
    if (Math.random() < 0.2) await new Promise((resolve) => setImmediate(resolve));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
