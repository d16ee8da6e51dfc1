/**
 * Fault test on a real 3-node nats-server cluster with an R3 stream: the stream leader is
 * SIGKILLed while a writer appends and two scanners read.
 */
import { channelSubjects } from '../../lib/nats/index.js';
import { describeWithNats, startNatsCluster, type NatsServer } from './support/natsServer.js';
import { leaderKill, restartAndCatchUp, waitForJetStream } from './support/leaderKill.js';

describeWithNats('JetStream WAL on a 3-node cluster', () => {
  let servers: NatsServer[] = [];
  beforeAll(async () => {
    servers = await startNatsCluster(3, 'leaderkill');
    await waitForJetStream(servers);
  }, 30_000);
  afterAll(async () => {
    for (const s of servers) await s.dispose();
  });

  test('a stream-leader kill loses no acknowledged append, and scanners deliver the log with no gap or duplicate', async () => {
    const result = await leaderKill(servers, 'r3', { before: 150, after: 150 });
    expect(result.lost).toBe(0);
    expect(result.mismatches).toEqual([]);
    expect(result.rejected).toBe(0);
    expect(result.acknowledged).toBeGreaterThanOrEqual(300);
    expect(result.writerResumeMs).toBeGreaterThan(0);
    expect(result.scannerResumeMs.every((ms) => ms > 0)).toBe(true);
    // the killed node comes back and catches up with the stream
    await expect(
      restartAndCatchUp(servers, result.killed, channelSubjects('r3').stream),
    ).resolves.toBe(true);
  }, 80_000);
});
