import { ExitCode } from '../../lib/cli/errors.js';
import { isTxnMessage } from '../../lib/message/message.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import type { MemoryWal } from '../../lib/wal/memoryWal.js';
import type { WalMessage } from '../../lib/message/message.js';
import { closeHarnessWals, harness, type Harness } from './harness.js';

async function appendLines(h: Harness, lines: string[], ...argv: string[]): Promise<number> {
  const exit = h.run('append', 'new.db', ...argv);
  h.stdin.end(lines.map((line) => `${line}\n`).join(''));
  return exit;
}

/** Every message a scanner delivers from the log, up to its last record. */
async function scanAll(wal: MemoryWal): Promise<WalMessage[]> {
  const out: WalMessage[] = [];
  for await (const m of scanWal(wal.readOnly())) {
    if (m.type !== 'TimeTick') out.push(m);
    if (m.type === 'TimeTick' && m.id.compare(lastId(wal)) >= 0) break;
  }
  return out;
}

function lastId(wal: MemoryWal): WalMessage['id'] {
  const reader = wal.read({ kind: 'latest' });
  reader.close();
  const resolved = reader.resolvedPolicy;
  if (resolved?.kind !== 'startAfter') throw new Error('empty log');
  return resolved.id;
}

describe('rxwal append (in-process, memory WAL)', () => {
  afterEach(closeHarnessWals);

  it('appends one message per line, prints their ids, and writes a time tick after them', async () => {
    const h = harness();
    const exit = await appendLines(
      h,
      [
        '{"type":"Insert","vchannel":"v1","payload":{"pk":1}}',
        '',
        '{"type":"Delete","vchannel":"v2","payload":"x","properties":{"k":"v"}}',
        '{"type":"Insert","payloadBase64":"AAEC"}',
      ],
      '--vchannel',
      'v9',
    );
    expect(exit).toBe(ExitCode.Ok);
    expect(h.opened).toEqual([{ path: 'new.db', readOnly: false }]);
    const wal = h.wals.get('new.db') as MemoryWal;
    const ids = h.stdout.lines;
    expect(ids).toHaveLength(3);
    const messages = await scanAll(wal);
    expect(messages.map((m) => [m.id.key, m.type, m.vchannel, m.payload, m.properties])).toEqual([
      [ids[0], 'Insert', 'v1', { pk: 1 }, {}],
      [ids[1], 'Delete', 'v2', 'x', { k: 'v' }],
      [ids[2], 'Insert', 'v9', Buffer.from([0, 1, 2]), {}],
    ]);
  });

  it('stores bytes in a log with the raw payload codec', async () => {
    const h = harness();
    const open = h.deps.openWal;
    h.deps.openWal = async (path, options) =>
      Object.assign(await open(path, options), { payloadCodec: { name: 'raw' } });
    await appendLines(h, [
      '{"type":"Insert","payload":"text"}',
      '{"type":"Insert","payload":{"pk":1}}',
      '{"type":"Insert","payloadText":"é"}',
    ]);
    const messages = await scanAll(h.wals.get('new.db') as MemoryWal);
    expect(messages.map((m) => m.payload)).toEqual([
      Buffer.from('text'),
      Buffer.from('{"pk":1}'),
      Buffer.from('é'),
    ]);
  });

  it('--txn appends every line in one transaction and prints the bodies ids', async () => {
    const h = harness();
    const exit = await appendLines(
      h,
      ['{"type":"Insert","vchannel":"v1","payload":1}', '{"type":"Insert","payload":2}'],
      '--txn',
      '--keepalive',
      '1m',
    );
    expect(exit).toBe(0);
    const messages = await scanAll(h.wals.get('new.db') as MemoryWal);
    expect(messages).toHaveLength(1);
    const txn = messages[0] as WalMessage;
    if (!isTxnMessage(txn)) throw new Error('expected a Txn');
    expect(txn.vchannel).toBe('v1');
    expect(txn.txn?.keepaliveMs).toBe(60_000);
    expect(txn.body.map((m) => m.payload)).toEqual([1, 2]);
    expect(h.stdout.lines).toEqual(txn.body.map((m) => m.id.key));
    expect(h.stderr.text).toBe(
      `rxwal: committed transaction ${txn.txn?.txnId} on "v1": 2 messages, begin #${txn.begin.id.key}, commit #${txn.id.key}\n`,
    );
  });

  it('--txn needs one vchannel', async () => {
    const none = harness();
    await expect(appendLines(none, ['{"type":"Insert"}'], '--txn')).resolves.toBe(ExitCode.Usage);
    expect(none.stderr.text).toContain('--txn needs a vchannel');
    const two = harness();
    const lines = ['{"type":"Insert","vchannel":"a"}', '{"type":"Insert","vchannel":"b"}'];
    await expect(appendLines(two, lines, '--txn')).resolves.toBe(ExitCode.Usage);
    expect(two.stderr.text).toContain('the lines name 2 vchannels');
    const other = harness();
    await expect(appendLines(other, lines, '--txn', '--vchannel', 'a')).resolves.toBe(5);
    expect(other.stderr.text).toBe(
      'rxwal: stdin line 2: vchannel "b" is not the transaction\'s ("a")\n',
    );
    expect(other.wals.get('new.db')?.length).toBe(0);
  });

  it.each([
    ['{"type":"Insert"', 'stdin line 2: not valid JSON'],
    ['[1]', 'stdin line 2: must be a JSON object with a "type"'],
    ['{"vchannel":"v1"}', 'stdin line 2: "type" must be a non-empty string'],
    [
      '{"type":"CommitTxn"}',
      'stdin line 2: "type" CommitTxn is a system type: the writer writes those',
    ],
    ['{"type":"Insert","pk":1}', 'stdin line 2: unknown field "pk"'],
    ['{"type":"Insert","vchannel":1}', 'stdin line 2: "vchannel" must be a string'],
    ['{"type":"Insert","properties":{"a":1}}', 'stdin line 2: "properties".a must be a string'],
    [
      '{"type":"Insert","properties":[]}',
      'stdin line 2: "properties" must be an object of strings',
    ],
    [
      '{"type":"Insert","payload":1,"payloadText":"1"}',
      'stdin line 2: give one of "payload", "payloadText" and "payloadBase64"',
    ],
    [
      '{"type":"Insert","payloadBase64":"%%"}',
      'stdin line 2: "payloadBase64" must be a base64 string',
    ],
    ['{"type":"Insert","payloadText":1}', 'stdin line 2: "payloadText" must be a string'],
  ])(
    'stops at the bad line %s with exit code 5, after appending the lines before it',
    async (bad, message) => {
      const h = harness();
      const exit = await appendLines(h, [
        '{"type":"Insert","payload":"ok"}',
        bad,
        '{"type":"Insert"}',
      ]);
      expect(exit).toBe(ExitCode.InvalidInput);
      expect(h.stderr.text.startsWith(`rxwal: ${message}`)).toBe(true);
      expect(h.stdout.lines).toHaveLength(1);
      const messages = await scanAll(h.wals.get('new.db') as MemoryWal);
      expect(messages.map((m) => m.payload)).toEqual(['ok']);
    },
  );

  it('--txn appends nothing when a line is bad', async () => {
    const h = harness();
    const exit = await appendLines(
      h,
      ['{"type":"Insert","payload":1}', 'not json'],
      '--txn',
      '--vchannel',
      'v1',
    );
    expect(exit).toBe(ExitCode.InvalidInput);
    expect(h.stdout.text).toBe('');
    expect(h.wals.get('new.db')?.length).toBe(0);
  });

  it('refuses payloadBase64 for a log that stores JSON', async () => {
    const h = harness();
    const open = h.deps.openWal;
    h.deps.openWal = async (path, options) =>
      Object.assign(await open(path, options), { payloadCodec: { name: 'json' } });
    await expect(appendLines(h, ['{"type":"Insert","payloadBase64":"AA=="}'])).resolves.toBe(5);
    expect(h.stderr.text).toBe(
      'rxwal: stdin line 1: "payloadBase64" needs a log storing raw bytes; this one uses the json payload codec\n',
    );
  });

  it('passes --payload-codec to the opener', async () => {
    const h = harness();
    await appendLines(h, ['{"type":"Insert"}'], '--payload-codec', 'json');
    expect(h.opened).toEqual([{ path: 'new.db', readOnly: false, payloadCodec: 'json' }]);
  });
});
