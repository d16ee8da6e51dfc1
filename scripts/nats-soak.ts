/**
 * `npm run test:cluster`: the leader-kill fault test of spec/nats/cluster.spec.ts, repeated on one
 * local 3-node nats-server cluster (RXWAL_SOAK_KILLS times, default 10; the killed node is
 * restarted and caught up before the next kill). Prints the counts of each kill and the medians;
 * exits 1 when any kill lost an acknowledged append or a scanner's delivery differed.
 */
import { startNatsCluster } from '../spec/nats/support/natsServer.js';
import {
  leaderKill,
  restartAndCatchUp,
  waitForJetStream,
} from '../spec/nats/support/leaderKill.js';

const kills = Number(process.env.RXWAL_SOAK_KILLS ?? 10);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number);
};

async function main(): Promise<number> {
  const servers = await startNatsCluster(3, 'soak');
  let failed = 0;
  const writer: number[] = [];
  const scanners: number[] = [];
  try {
    await waitForJetStream(servers);
    for (let i = 1; i <= kills; i++) {
      const r = await leaderKill(servers, `soak${i}`, { before: 200, after: 200 });
      const caughtUp = await restartAndCatchUp(servers, r.killed, `RXWAL_soak${i}`);
      const ok = r.lost === 0 && r.mismatches.length === 0 && r.rejected === 0 && caughtUp;
      if (!ok) failed++;
      writer.push(r.writerResumeMs);
      scanners.push(...r.scannerResumeMs);
      console.log(
        `kill ${i}/${kills} ${r.killed}: acknowledged ${r.acknowledged}, rejected ${r.rejected}, lost ${r.lost}, ` +
          `writer resumed after ${r.writerResumeMs} ms, scanners after ${r.scannerResumeMs.join('/')} ms, ` +
          `restarted node caught up: ${caughtUp}${r.mismatches.length > 0 ? `, ${r.mismatches.join('; ')}` : ''}`,
      );
    }
  } finally {
    for (const s of servers) await s.dispose();
  }
  console.log(
    `${kills} leader kills, ${failed} failed; writer resume median ${median(writer)} ms max ${Math.max(...writer)} ms; ` +
      `scanner resume median ${median(scanners)} ms max ${Math.max(...scanners)} ms`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
