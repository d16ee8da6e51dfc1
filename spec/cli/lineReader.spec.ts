import { InvalidInputError } from '../../lib/cli/errors.js';
import { LineReader, malformedString } from '../../lib/cli/append.js';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const part of parts) yield part;
}

async function readAll(reader: LineReader): Promise<{ line: number; text: string }[]> {
  const lines: { line: number; text: string }[] = [];
  for (let next = await reader.next(); next !== undefined; next = await reader.next()) {
    lines.push(next);
  }
  return lines;
}

describe('LineReader (append’s stdin)', () => {
  it('numbers lines across chunks, skips blank ones, trims CR and keeps the last unterminated line', async () => {
    const euro = Buffer.from('€'); // three bytes, split across two chunks below
    const reader = new LineReader(
      chunks(
        'a\r\n\n  \nb',
        Buffer.concat([Buffer.from('c'), euro.subarray(0, 1)]),
        Buffer.concat([euro.subarray(1), Buffer.from('\nlast')]),
      ),
    );
    expect(await readAll(reader)).toEqual([
      { line: 1, text: 'a' },
      { line: 4, text: 'bc€' },
      { line: 5, text: 'last' },
    ]);
    expect(reader.stopped).toBe(false);
  });

  it('returns the lines before one that is not UTF-8, then throws naming it', async () => {
    const reader = new LineReader(
      chunks(
        Buffer.concat([
          Buffer.from('one\ntwo\nbad'),
          Buffer.from([0xc0, 0x80]),
          Buffer.from('\nfour\n'),
        ]),
      ),
    );
    expect(await reader.next()).toEqual({ line: 1, text: 'one' });
    expect(await reader.next()).toEqual({ line: 2, text: 'two' });
    const error = await reader.next().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe('stdin line 3: is not valid UTF-8');
    expect(await reader.next()).toBeUndefined(); // nothing after it is read
  });

  it('stops at the abort signal, also while a read waits, and says it stopped', async () => {
    const stop = new AbortController();
    let release: () => void = () => undefined;
    async function* slow(): AsyncGenerator<string> {
      yield 'one\n';
      await new Promise<void>((resolve) => (release = resolve));
      yield 'two\n';
    }
    const reader = new LineReader(slow(), stop.signal);
    expect(await reader.next()).toEqual({ line: 1, text: 'one' });
    const waiting = reader.next();
    stop.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(reader.stopped).toBe(true);
    release();
    expect(await reader.next()).toBeUndefined();
  });

  it('returns undefined when the interrupt settles first, and the line later', async () => {
    let release: () => void = () => undefined;
    async function* slow(): AsyncGenerator<string> {
      await new Promise<void>((resolve) => (release = resolve));
      yield 'late\n';
    }
    const reader = new LineReader(slow());
    await expect(reader.next(Promise.resolve())).resolves.toBeUndefined();
    expect(reader.stopped).toBe(false);
    release();
    await expect(reader.next()).resolves.toEqual({ line: 1, text: 'late' });
  });

  it('an aborted signal stops before the first read', async () => {
    const stop = new AbortController();
    stop.abort();
    const reader = new LineReader(chunks('one\n'), stop.signal);
    await Promise.resolve(); // the signal is seen on the next turn
    expect(await reader.next()).toBeUndefined();
    expect(reader.stopped).toBe(true);
  });
});

describe('malformedString', () => {
  it('names the first string or key with a lone surrogate, nested in objects and arrays', () => {
    expect(malformedString({ type: 'Insert', payload: { a: [1, 'ok', { b: 'x\ud800' }] } })).toBe(
      '"payload".a[2].b',
    );
    expect(malformedString({ payload: { '\udc00': 1 } })).toBe('"payload"."\\udc00"');
    expect(
      malformedString({ type: 'Insert', payload: { a: ['😀'] }, properties: { k: 'v' } }),
    ).toBe(undefined);
  });

  it('walks a payload nested 100,000 deep without overflowing the stack', () => {
    let deep: unknown = '\ud800';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(malformedString({ payload: deep })).toBe(`"payload"${'[0]'.repeat(100_000)}`);
  });
});
