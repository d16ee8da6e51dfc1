/**
 * One contender over W1, `runs` times in a row, for counting instructions under callgrind: a
 * measure this noisy 2-core machine cannot move (bench/README.md, "Counted in instructions").
 * Under `node --single-threaded --predictable` the count of one build repeats to a few million
 * in 7,800 million;
 * the steady cost of one run is (the count at 10 runs − the count at 5 runs) ÷ 5.
 *
 * ```sh
 * npx tsc -p tsconfig.bench.json
 * valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.operators.10 \
 *   node --single-threaded --predictable .bench/bench/instructions.js operators 10 200000
 * ```
 *
 * Contenders: `limit`, `operators` (`from(W1)` through the three operators), `scanWal` (a memory
 * WAL holding W1, from `all()` to its last tick) and `none` (W1 built, nothing run). The scanner's
 * pacer yields to the event loop by the clock, and under valgrind the clock runs some 50 times
 * slower than in a real run, so a scanWal count holds far more yields than a real run does; the
 * README says how it was counted without them.
 */
import { from } from 'rxjs';

import type { WalMessage } from '../lib/message/message.js';
import { filterVChannel } from '../lib/operators/filterVChannel.js';
import { reorderUntilTick } from '../lib/operators/reorderUntilTick.js';
import { txnBuffer } from '../lib/operators/txnBuffer.js';
import { scanWal } from '../lib/scanner/scanWal.js';
import { createMemoryWal, type MemoryWal } from '../lib/wal/memoryWal.js';
import { runLimit } from './limit.js';
import { generateW1, rawRecordOf } from './workloads.js';

const CONTENDERS = ['limit', 'operators', 'scanWal', 'none'] as const;
type Contender = (typeof CONTENDERS)[number];

function parseArgs(argv: readonly string[]): { contender: Contender; runs: number; size: number } {
  const [name = 'operators', runsText = '10', sizeText = '200000'] = argv;
  if (!(CONTENDERS as readonly string[]).includes(name)) {
    throw new RangeError(`contender must be one of ${CONTENDERS.join(', ')}, got ${name}`);
  }
  const runs = Number(runsText);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(runs) || runs < 0) throw new RangeError(`runs: ${runsText}`);
  if (!Number.isSafeInteger(size) || size < 1000) throw new RangeError(`size: ${sizeText}`);
  return { contender: name as Contender, runs, size };
}

function operators(messages: readonly WalMessage[], vchannel: string): number {
  let delivered = 0;
  from(messages)
    .pipe(filterVChannel(vchannel), reorderUntilTick(), txnBuffer())
    .subscribe(() => delivered++);
  return delivered;
}

/** scanWal from `all()` until `last` is delivered, as bench/run.ts measures it. */
function scanUntil(wal: MemoryWal, vchannel: string, last: WalMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    let delivered = 0;
    const subscription = scanWal(wal, { vchannel }).subscribe({
      next: (m) => {
        delivered++;
        if (m !== last) return;
        setImmediate(() => subscription.unsubscribe());
        resolve(delivered);
      },
      error: reject,
    });
  });
}

async function main(): Promise<void> {
  const { contender, runs, size } = parseArgs(process.argv.slice(2));
  const vchannel = 'v1';
  const wal = createMemoryWal({ channel: 'instructions' });
  const messages = generateW1({ messages: size, seed: 1 }).map((m) =>
    wal.appendRaw(rawRecordOf(m)),
  );
  const last = messages[messages.length - 1] as WalMessage;
  let delivered = 0;
  for (let run = 0; run < runs; run++) {
    if (contender === 'limit') delivered += runLimit(messages, vchannel);
    else if (contender === 'operators') delivered += operators(messages, vchannel);
    else if (contender === 'scanWal') delivered += await scanUntil(wal, vchannel, last);
  }
  process.stdout.write(
    `${contender}: ${runs} runs over ${size} messages, ${delivered} delivered\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
