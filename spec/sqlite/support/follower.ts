/**
 * A second process for spec/sqlite/processes.spec.ts: opens the WAL read-only and scans it in
 * catch-up mode, printing each delivered data message as a JSON line; exits on payload "end".
 */
import { isTxnMessage, scanWal } from '../../../lib/index.js';
import { openSqliteWal } from '../../../lib/sqlite/index.js';

async function main(): Promise<void> {
  const path = process.argv[2] as string;
  const wal = await openSqliteWal(path, { readOnly: true, pollInterval: '10ms' });
  process.stdout.write(`${JSON.stringify({ ready: wal.accessMode })}\n`);
  for await (const m of scanWal(wal, { vchannel: 'v1' })) {
    if (m.type === 'TimeTick') continue;
    const bodies = isTxnMessage(m) ? m.body : [m];
    for (const b of bodies)
      process.stdout.write(
        `${JSON.stringify({ id: b.id.key, type: m.type, payload: String(b.payload) })}\n`,
      );
    if (bodies.some((b) => String(b.payload) === 'end')) break;
  }
  await wal.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
