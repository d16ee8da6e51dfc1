import { Writable } from 'node:stream';

import pino from 'pino';
import { filter, firstValueFrom, take, toArray } from 'rxjs';

import type { Logger } from '../../lib/index.js';
import { createMemoryWal, scanWal } from '../../lib/index.js';

/** A logger of rxwal's interface that is no pino logger: an object of five functions. */
function objectLogger(lines: string[], bindings: Record<string, unknown> = {}): Logger {
  const log = (level: string) => (obj: object, msg?: string) => {
    lines.push(`${level} ${msg ?? ''} ${JSON.stringify({ ...bindings, ...obj })}`);
  };
  return {
    child: (more) => objectLogger(lines, { ...bindings, ...more }),
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
}

async function scanOnce(logger: Logger): Promise<void> {
  const wal = createMemoryWal({ channel: 'p0', logger });
  await wal.append({ type: 'Insert', vchannel: 'v1' });
  await wal.syncTimeTick({ persisted: true });
  await firstValueFrom(
    scanWal(wal, { vchannel: 'v1', name: 'logged', logger }).pipe(
      filter((m) => m.type === 'Insert'),
      take(1),
      toArray(),
    ),
  );
  await wal.close();
}

describe('Logger (structural: any logger with these methods)', () => {
  it('a minimal object logger type-checks and receives the scanner’s lines', async () => {
    const lines: string[] = [];
    await scanOnce(objectLogger(lines));
    expect(
      lines.some((l) => l.startsWith('info scanner is closed') && l.includes('"logged"')),
    ).toBe(true);
  });

  it('a real pino logger type-checks and receives the scanner’s lines', async () => {
    const lines: { msg?: string; name?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as { msg?: string; name?: string });
        done();
      },
    });
    const logger: Logger = pino({ level: 'debug' }, sink);
    await scanOnce(logger);
    expect(lines.find((l) => l.msg === 'scanner is closed')).toMatchObject({ name: 'logged' });
  });

  it('an object without one of the methods does not type-check', () => {
    const lines: string[] = [];
    const { warn: _warn, ...withoutWarn } = objectLogger(lines);
    // @ts-expect-error warn() is missing
    const logger: Logger = withoutWarn;
    expect(() => scanWal(createMemoryWal(), { logger })).toThrow(/no warn\(\)/);
  });
});
