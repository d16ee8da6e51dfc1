import { ReadProgress, tickOf } from '../../lib/cli/logEnd.js';
import { renderProgress } from '../../lib/cli/progressBar.js';
import { createMessage } from '../../lib/message/createMessage.js';
import { messageId } from '../../lib/message/messageId.js';
import { tso } from '../../lib/message/tso.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';

describe('rxwal scan progress: lag in records and seconds', () => {
  const at = (id: number, ms: number) =>
    createMessage({ id, type: 'Insert', timeTick: tso.compose(1_700_000_000_000 + ms) });

  test('the time lag is the newest tick written minus the last one delivered', () => {
    const progress = new ReadProgress(messageId(10));
    progress.newestTick = tso.compose(1_700_000_000_000 + 9000);
    progress.count([at(1, 0), at(2, 500), at(3, 250)]);
    expect(renderProgress(progress, 1000)).toMatch(/lag 7$/); // nothing delivered yet
    progress.delivered(at(2, 500));
    expect(renderProgress(progress, 1000)).toMatch(/ {2}3 read {2}3\/s {2}lag 7 \(8\.5s\)$/);
    // a record newer than the end seen at the start moves the newest tick
    progress.count([at(11, 12_000)]);
    expect(progress.lagSeconds).toBe(11.5);
    progress.delivered(at(11, 12_000));
    expect(progress.lagSeconds).toBe(0);
  });

  test('tickOf reads the tick of the end record once; an empty log has none', async () => {
    const wal = createMemoryWal({ channel: 'p0' });
    expect(await tickOf(wal, undefined)).toBeUndefined();
    wal.appendRaw({ type: 'Insert', timeTick: 50n });
    wal.appendRaw({ type: 'TimeTick', timeTick: 70n });
    expect(await tickOf(wal, messageId(2))).toBe(70n);
    await wal.close();
  });
});
