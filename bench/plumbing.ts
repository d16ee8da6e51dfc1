/**
 * How much of the operators' time over W1 is RxJS plumbing: the same pipeline shape with the work
 * taken out (`from`, a stage keeping the vchannel, two stages that pass everything on, a counting
 * subscriber) against the same vchannel check in a plain loop, the limit and the operators, their
 * runs interleaved in one process; medians of CPU time.
 *
 * ```sh
 * npx tsc -p tsconfig.bench.json && node .bench/bench/plumbing.js 15
 * ```
 */
import { from, Observable, type MonoTypeOperatorFunction, type Subscriber } from 'rxjs';

import { LinkedSubscriber } from '../lib/internal/linkedObserver.js';
import { MessageType, type WalMessage } from '../lib/message/message.js';
import { filterVChannel } from '../lib/operators/filterVChannel.js';
import { reorderUntilTick } from '../lib/operators/reorderUntilTick.js';
import { txnBuffer } from '../lib/operators/txnBuffer.js';
import { createMemoryWal } from '../lib/wal/memoryWal.js';
import { runLimit } from './limit.js';
import { generateW1, rawRecordOf } from './workloads.js';

const runs = Number(process.argv[2] ?? 15);
const vchannel = 'v1';
// The WAL's own copies of W1, as bench/run.ts measures them.
const wal = createMemoryWal({ channel: 'plumbing' });
const messages = generateW1({ messages: 1_000_000, seed: 1 }).map((m) =>
  wal.appendRaw(rawRecordOf(m)),
);

const kept = (m: WalMessage): boolean =>
  m.type === MessageType.TimeTick || m.vchannel === '' || m.vchannel === vchannel;

/** A stage that keeps the vchannel's messages and does nothing else. */
class KeepStage extends LinkedSubscriber<WalMessage> {
  next(m: WalMessage): void {
    if (this.closed) return;
    try {
      if (kept(m)) this.destination.next(m);
    } catch (err) {
      this.error(err);
    }
  }
}

/** A stage that passes everything on; two classes, as the operators are two more stages. */
class PassStage extends LinkedSubscriber<WalMessage> {
  next(m: WalMessage): void {
    if (this.closed) return;
    try {
      this.destination.next(m);
    } catch (err) {
      this.error(err);
    }
  }
}
class OtherPassStage extends PassStage {
  override next(m: WalMessage): void {
    if (this.closed) return;
    try {
      this.destination.next(m);
    } catch (err) {
      this.error(err);
    }
  }
}

const stage =
  (Stage: new (destination: Subscriber<unknown>) => LinkedSubscriber<WalMessage>) =>
  (): MonoTypeOperatorFunction<WalMessage> =>
  (source) =>
    new Observable<WalMessage>((subscriber) => {
      new Stage(subscriber).linkTo(source);
    });

function count(source: Observable<WalMessage>): number {
  let n = 0;
  source.subscribe(() => n++);
  return n;
}

const contenders: Record<string, () => number> = {
  limit: () => runLimit(messages, vchannel),
  'vchannel check, loop': () => {
    let n = 0;
    for (let i = 0; i < messages.length; i++) if (kept(messages[i] as WalMessage)) n++;
    return n;
  },
  plumbing: () =>
    count(from(messages).pipe(stage(KeepStage)(), stage(PassStage)(), stage(OtherPassStage)())),
  operators: () =>
    count(from(messages).pipe(filterVChannel(vchannel), reorderUntilTick(), txnBuffer())),
};

const cpuMs: Record<string, number[]> = {};
for (let r = -2; r < runs; r++) {
  for (const [name, run] of Object.entries(contenders)) {
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    if (r >= 0) (cpuMs[name] ??= []).push((used.user + used.system) / 1000);
  }
}
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] as number;
};
for (const [name, values] of Object.entries(cpuMs)) {
  process.stdout.write(`${name.padEnd(22)} ${median(values).toFixed(1).padStart(7)} ms CPU\n`);
}
