import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { from, lastValueFrom, toArray } from 'rxjs';

import { formatMessageLine, SCAN_JSON_SCHEMA } from '../../lib/cli/format.js';
import { createMessage } from '../../lib/message/createMessage.js';
import { txnBuffer } from '../../lib/operators/txnBuffer.js';
import { REPO } from './bundles.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  files: string[];
  peerDependencies: Record<string, string>;
};
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

/** Is `path` (relative to the package root) in the tarball, by the `files` list? */
function shipped(path: string): boolean {
  if (['README.md', 'package.json', 'LICENSE'].includes(path)) return true;
  return pkg.files.some((entry) => {
    const pattern = new RegExp(
      `^${entry.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`,
    );
    return pattern.test(path);
  });
}

describe('the README as npm shows it', () => {
  it('links only to absolute addresses or to files the package ships', () => {
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
    const relative = links.filter((l) => !/^https?:\/\//.test(l) && !l.startsWith('#'));
    expect(relative.length).toBeGreaterThan(0);
    for (const link of relative) {
      const path = link.split('#')[0] ?? '';
      expect([link, existsSync(join(REPO, path)), shipped(path)]).toEqual([link, true, true]);
    }
  });

  it('says how to install, with every optional peer and its range', () => {
    expect(readme).toMatch(/^npm install rxwal rxjs$/m);
    for (const [name, range] of Object.entries(pkg.peerDependencies)) {
      if (name === 'rxjs') continue;
      expect(readme).toContain(`\`${name}\` \`${range.replace(/\|/g, '\\|')}\``);
    }
  });

  it('ships a LICENSE with the full Apache-2.0 text and the CHANGELOG', () => {
    const license = readFileSync(join(REPO, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(shipped('CHANGELOG.md')).toBe(true);
    expect(shipped('LICENSE')).toBe(true);
  });
});

describe("the README's line schema of scan --format json", () => {
  /** The field names in the first column of the README's schema table. */
  function documentedFields(): string[] {
    const section = /### `scan --format json`: the line schema\n([\s\S]*?)\n\n(?=[^|])/.exec(
      readme,
    )?.[1];
    const table = section?.split('\n\n').find((block) => block.startsWith('| field'));
    const rows = (table ?? '').split('\n').slice(2);
    return rows.flatMap((row) =>
      [...(row.split('|')[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1] ?? ''),
    );
  }

  it('names every field a line can have, and only those, at the schema version the code writes', async () => {
    let id = 0;
    const m = (init: Record<string, unknown>) =>
      createMessage({ id: ++id, vchannel: 'v1', timeTick: 10 + id, ...init } as Parameters<
        typeof createMessage
      >[0]);
    const txn = { txnId: 7, keepalive: Infinity };
    const messages = [
      m({ type: 'Insert', payload: { pk: 1 }, properties: { reason: 'ttl' } }),
      m({ type: 'Insert', payload: new TextEncoder().encode('text') }),
      m({ type: 'Insert', payload: new Uint8Array([0xff, 0xfe]) }),
      m({ type: 'BeginTxn', txn }),
      m({ type: 'Insert', txn, payload: 1 }),
      m({ type: 'CommitTxn', txn }),
      m({ type: 'TimeTick', vchannel: '' }),
    ];
    const delivered = await lastValueFrom(from(messages).pipe(txnBuffer(), toArray()));
    const seen = new Set<string>();
    const collect = (json: Record<string, unknown>): void => {
      for (const [key, value] of Object.entries(json)) {
        seen.add(key);
        if (key === 'body') for (const body of value as Record<string, unknown>[]) collect(body);
      }
    };
    for (const message of delivered) {
      collect(JSON.parse(formatMessageLine(message, 'json')) as Record<string, unknown>);
    }
    expect(delivered.map((d) => d.type)).toEqual(['Insert', 'Insert', 'Insert', 'Txn', 'TimeTick']);
    expect(documentedFields().sort()).toEqual([...seen].sort());
    expect(readme).toContain(`version \`"schema": ${SCAN_JSON_SCHEMA}\``);
  });
});
