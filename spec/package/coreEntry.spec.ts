import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';

import { bundleRoot, REPO, scratchDir } from './bundles.js';

/**
 * What `require` asks Node for while a module loads: run in a fresh process, with
 * `Module._load` recording every request that is not a relative path.
 */
function requestsWhileLoading(file: string): string[] {
  const script = `
    const Module = require('node:module');
    const seen = new Set();
    const load = Module._load;
    Module._load = function (request, parent, isMain) {
      if (!request.startsWith('.') && !request.startsWith('/')) seen.add(request);
      return load.call(this, request, parent, isMain);
    };
    const rxwal = require(process.argv[1]);
    Module._load = load;
    if (typeof rxwal.scanWal !== 'function') throw new Error('not rxwal');
    process.stdout.write(JSON.stringify([...seen].sort()));
  `;
  const out = execFileSync(process.execPath, ['-e', script, file], { cwd: REPO, encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

describe('the core entry (rxwal)', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir('core-entry');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads no logging library and no Node built-in at import time', async () => {
    const { file } = await bundleRoot(join(dir, 'cjs'), 'cjs');
    const requests = requestsWhileLoading(file);
    expect(requests).toContain('rxjs');
    expect(requests.filter((r) => r.startsWith('pino'))).toEqual([]);
    expect(requests.filter((r) => isBuiltin(r))).toEqual([]);
  }, 30_000);

  it('imports no Node built-in and no pino anywhere in its module graph', async () => {
    const { metafile } = await bundleRoot(join(dir, 'esm'), 'esm');
    const imports = Object.entries(metafile.inputs).flatMap(([from, input]) =>
      input.imports.map((i) => `${from} → ${i.path}`),
    );
    expect(imports.filter((i) => / → (node:|pino)/.test(i))).toEqual([]);
  }, 30_000);

  it('error classes pass instanceof across the ES module and CommonJS copies', async () => {
    const esm = await bundleRoot(join(dir, 'dual-esm'), 'esm');
    const cjs = await bundleRoot(join(dir, 'dual-cjs'), 'cjs');
    const script = `
      const { pathToFileURL } = require('node:url');
      const names = ['WalError', 'InvalidMessageError', 'ConfigError', 'CorruptRecordError',
        'ClosedError', 'EvictedError', 'TxnExpiredError', 'FencedError'];
      const build = (m) => ({
        WalError: new m.WalError('X', 'x'), InvalidMessageError: new m.InvalidMessageError('f', 1, 'bad'),
        ConfigError: new m.ConfigError('o', 1, 'bad'), CorruptRecordError: new m.CorruptRecordError('1', 'bad'),
        ClosedError: new m.ClosedError('wal'), EvictedError: new m.EvictedError(),
        TxnExpiredError: new m.TxnExpiredError(1n), FencedError: new m.FencedError(),
      });
      import(pathToFileURL(process.argv[1]).href).then((esm) => {
        const cjs = require(process.argv[2]);
        if (esm.WalError === cjs.WalError) throw new Error('one copy only');
        const rows = [];
        for (const [from, to] of [[esm, cjs], [cjs, esm]]) {
          const errors = build(from);
          for (const made of names) for (const checked of names) {
            rows.push([made, checked, errors[made] instanceof to[checked]]);
          }
        }
        process.stdout.write(JSON.stringify(rows));
      });
    `;
    const out = execFileSync(process.execPath, ['-e', script, esm.file, cjs.file], {
      cwd: REPO,
      encoding: 'utf8',
    });
    const rows = JSON.parse(out) as [string, string, boolean][];
    expect(rows).toHaveLength(2 * 8 * 8);
    for (const [made, checked, result] of rows) {
      expect([made, checked, result]).toEqual([
        made,
        checked,
        made === checked || checked === 'WalError',
      ]);
    }
  }, 30_000);
});
