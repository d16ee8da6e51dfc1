/**
 * Runs one contender of the throughput figures over W1 repeatedly, for a CPU profile:
 *
 * ```sh
 * npx tsc -p tsconfig.bench.json
 * node --cpu-prof --cpu-prof-dir=.scratch .bench/bench/profile.js operators 10
 * ```
 *
 * Contenders: `limit`, `operators`, `scanWal`, `naive` (vchannel v1; BENCH_VCHANNEL='' for W2).
 * Sizes follow BENCH_SCALE like bench/run.ts. BENCH_GC=1 forces a GC before each run (needs
 * `--expose-gc`) and BENCH_REWARM=1 adds an untimed run after it, as bench/run.ts times them.
 */
import { performance } from 'node:perf_hooks';

import { from } from 'rxjs';

import type { WalMessage } from '../lib/message/message.js';
import { filterVChannel } from '../lib/operators/filterVChannel.js';
import { reorderUntilTick } from '../lib/operators/reorderUntilTick.js';
import { txnBuffer } from '../lib/operators/txnBuffer.js';
import { scanWal } from '../lib/scanner/scanWal.js';
import { createMemoryWal } from '../lib/wal/memoryWal.js';
import { runLimit } from './limit.js';
import { naiveScan } from './naive.js';
import { generateW1, rawRecordOf } from './workloads.js';

const contender = process.argv[2] ?? 'operators';
const runs = Number(process.argv[3] ?? 10);
const vchannel = process.env.BENCH_VCHANNEL ?? 'v1';
const size = Math.round(1_000_000 * Number(process.env.BENCH_SCALE ?? 1));

async function main(): Promise<void> {
  const generated = generateW1({ messages: size, seed: 1 });
  const wal = createMemoryWal({ channel: 'profile' });
  const stored: WalMessage[] = [];
  let last: WalMessage | undefined;
  for (const m of generated) {
    last = wal.appendRaw(rawRecordOf(m));
    stored.push(last);
  }
  // The WAL's own copies, as bench/run.ts measures them (BENCH_ORIGINALS=1: the generated ones).
  const messages = process.env.BENCH_ORIGINALS === '1' ? generated : stored;
  const once = async (): Promise<number> => {
    let delivered = 0;
    switch (contender) {
      case 'limit':
        return runLimit(messages, vchannel);
      case 'operators':
        from(messages)
          .pipe(filterVChannel(vchannel), reorderUntilTick(), txnBuffer())
          .subscribe(() => delivered++);
        return delivered;
      case 'naive':
        from(messages)
          .pipe(naiveScan(vchannel))
          .subscribe(() => delivered++);
        return delivered;
      case 'scanWal':
        return new Promise((resolve, reject) => {
          const subscription = scanWal(wal, { vchannel }).subscribe({
            next: (m) => {
              delivered++;
              if (m === last) {
                setImmediate(() => subscription.unsubscribe());
                resolve(delivered);
              }
            },
            error: reject,
          });
        });
      default:
        throw new Error(`unknown contender ${contender}`);
    }
  };
  const gc = process.env.BENCH_GC === '1' ? (globalThis as { gc?: () => void }).gc : undefined;
  for (let r = 0; r < runs; r++) {
    gc?.();
    if (process.env.BENCH_REWARM === '1') await once();
    const start = performance.now();
    const delivered = await once();
    process.stdout.write(
      `${contender} run ${r + 1}: ${(performance.now() - start).toFixed(0)} ms, delivered ${delivered}\n`,
    );
  }
  await wal.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
