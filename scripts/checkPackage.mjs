// `npm run check:package`: the tarball as a user gets it. Packs rxwal (prepack builds it), runs
// @arethetypeswrong/cli and publint on the tarball, installs it (from npm's cache, offline when
// it can) into throwaway consumer projects — ESM JS, CommonJS JS, TypeScript `node16`, `bundler`
// and `module: commonjs` with node10 resolution — checks the files it holds
// (scripts/packageContents.mjs), imports every subpath, type-checks, runs a small scan and the
// installed `rxwal --help`. Exits non-zero on the first problem.
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { packageProblems } from './packageContents.mjs';

const repo = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'rxwal-package-'));
const keep = process.env.KEEP_CHECK_DIR === '1';
const started = Date.now();

/** Runs a command; its output is shown only when it fails. */
function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, {
      cwd: repo,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options,
    });
  } catch (err) {
    process.stderr.write(
      `\n✗ ${command} ${args.join(' ')}\n${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    throw new Error(`check:package failed at: ${command} ${args.join(' ')}`, { cause: err });
  }
}
const step = (what) => console.log(`• ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const bin = (name) => join(repo, 'node_modules', '.bin', name);
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

function write(dir, files) {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

try {
  step('npm pack (prepack builds dist/)');
  run('npm', ['pack', '--pack-destination', work, '--silent']);
  const tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz')),
  );

  step('@arethetypeswrong/cli');
  run(bin('attw'), [tarball, '--format', 'ascii']);
  step('publint --strict');
  const lint = run(bin('publint'), ['run', tarball, '--strict']);
  if (!/All good/.test(lint)) throw new Error(`publint reported:\n${lint}`);

  // One install for every consumer: each is a directory below the install root, so Node and
  // TypeScript find rxwal and rxjs by walking up. The peers are linked in for the second phase.
  step('npm install of the tarball and rxjs (prefer offline)');
  write(work, { 'package.json': '{ "private": true }\n' });
  const rxjsVersion = JSON.parse(
    run('node', ['-p', 'JSON.stringify(require("rxjs/package.json").version)']),
  );
  run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--no-save',
      tarball,
      `rxjs@${rxjsVersion}`,
    ],
    { cwd: work },
  );
  const modules = join(work, 'node_modules');

  step('the files of the installed package (maps, declarations, bin, LICENSE, CHANGELOG)');
  const problems = packageProblems(realpathSync(join(modules, 'rxwal')));
  if (problems.length > 0) throw new Error(`the package's files:\n${problems.join('\n')}`);
  mkdirSync(join(modules, '@types'), { recursive: true });
  symlinkSync(join(repo, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'));

  const smoke = `
    const wal = rxwal.createMemoryWal({ channel: 'p0' });
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 'a' });
    await wal.append({ type: 'Insert', vchannel: 'v2', payload: 'b' });
    await wal.append({ type: 'Delete', vchannel: 'v1', payload: 'c' });
    await wal.syncTimeTick({ persisted: true });
    const got = await rxjs.firstValueFrom(
      rxwal.scanWal(wal, { vchannel: 'v1' }).pipe(
        rxjs.filter((m) => m.type !== 'TimeTick'),
        rxjs.take(2),
        rxjs.toArray(),
      ),
    );
    await wal.close();
    const seen = got.map((m) => m.type + ':' + m.payload).join(' ');
    if (seen !== 'Insert:a Delete:c') throw new Error('scan delivered ' + seen);
    const notation = Object.keys(testing.walMessages({ a: 'ins v1 @1' })).join();
    if (notation !== 'a') throw new Error('rxwal/testing: ' + notation);
    // a whole scanner in virtual time over a scripted WAL: the first read fails, the retry reads
    const clock = new testing.VirtualClock();
    const scripted = testing.scriptedWal('(#at)', { a: 'ins v1 @1', t: 'tt @2' }, { scheduler: clock.scheduler });
    const replayed = [];
    const scanning = rxwal.scanWal(scripted, { scheduler: clock.scheduler }).subscribe((m) => replayed.push(m.type));
    await clock.advance(200);
    scanning.unsubscribe();
    scripted.close();
    if (replayed.join() !== 'Insert,TimeTick' || scripted.reads.length !== 2) {
      throw new Error('rxwal/testing VirtualClock + scriptedWal: ' + replayed.join() + ', reads: ' + scripted.reads.length);
    }
  `;
  const peerFailures = `
    for (const [subpath, peer] of [['rxwal/sqlite', 'better-sqlite3 ^12.0.0 || ^13.0.0'], ['rxwal/prometheus', 'prom-client ^15.0.0']]) {
      let failure;
      try { await load(subpath); } catch (err) { failure = err; }
      if (failure?.code !== 'MISSING_PEER' || !failure.message.includes(peer) || !failure.message.includes('npm install')) {
        throw new Error(subpath + ' without its peer: ' + (failure?.stack ?? 'loaded'));
      }
    }
    // rxwal/nats loads its clients on first use: importing it works, opening says what to install
    const nats = await load('rxwal/nats');
    let natsFailure;
    try { await nats.openJetStreamWal({ channel: 'p1', servers: 'nats://127.0.0.1:1' }); } catch (err) { natsFailure = err; }
    if (!String(natsFailure?.message).includes('npm install @nats-io/transport-node')) {
      throw new Error('rxwal/nats without its peers: ' + (natsFailure?.stack ?? 'opened'));
    }
  `;
  const withPeers = `
    const { openSqliteWal } = await load('rxwal/sqlite');
    const { prometheusMetrics } = await load('rxwal/prometheus');
    const { Registry } = await load('prom-client');
    const registry = new Registry();
    const file = process.argv[2];
    const wal = await openSqliteWal(file, { channel: 'p1' });
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: new Uint8Array([7]) });
    await wal.syncTimeTick({ persisted: true });
    const metrics = prometheusMetrics(registry, { channel: 'p1' });
    const first = await rxjs.firstValueFrom(
      rxwal.scanWal(wal, { metrics }).pipe(rxjs.filter((m) => m.type === 'Insert')),
    );
    await wal.close();
    if (first.payload[0] !== 7) throw new Error('sqlite scan delivered ' + String(first.payload));
    if (!(await registry.metrics()).includes('rxwal_scan_message_total')) throw new Error('no metrics');
  `;
  const brands = `
    const other = otherCopy;
    for (const [mine, theirs] of [[rxwal, other], [other, rxwal]]) {
      const err = new theirs.ConfigError('x', 1, 'bad');
      if (!(err instanceof mine.ConfigError) || !(err instanceof mine.WalError) || err instanceof mine.ClosedError) {
        throw new Error('instanceof across the ESM and CommonJS copies failed');
      }
    }
    if (other.ConfigError === rxwal.ConfigError) throw new Error('expected two copies');
  `;
  const body = `${smoke}\n${brands}\nif (process.argv[2] === 'bare') {\n${peerFailures}\n} else {\n${withPeers}\n}`;

  const esmJs = {
    'package.json': '{ "type": "module" }\n',
    'main.js': `import { createRequire } from 'node:module';
import * as rxjs from 'rxjs';
import * as rxwal from 'rxwal';
import * as testing from 'rxwal/testing';
const load = (id) => import(id);
const otherCopy = createRequire(import.meta.url)('rxwal');
${body}
console.log('ok');
`,
  };
  const cjsJs = {
    'package.json': '{ "type": "commonjs" }\n',
    'main.js': `const rxjs = require('rxjs');
const rxwal = require('rxwal');
const testing = require('rxwal/testing');
const load = async (id) => require(id);
(async () => {
  const otherCopy = await import('rxwal');
  ${body}
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`,
  };
  const imports = `import { createMemoryWal, scanWal, WalError, type Logger, type WalMessage } from 'rxwal';
import { createWalTestScheduler, scriptedWal, VirtualClock, type ScriptedWal } from 'rxwal/testing';
import { openSqliteWal, type SqliteWalOptions } from 'rxwal/sqlite';
import { prometheusMetrics } from 'rxwal/prometheus';
`;
  const typed = `
export async function firstTypes(logger: Logger): Promise<WalMessage[]> {
  const wal = createMemoryWal({ channel: 'p0', logger });
  const options: SqliteWalOptions = { channel: 'p0' };
  void [createWalTestScheduler, openSqliteWal, prometheusMetrics, options];
  const clock = new VirtualClock();
  const scripted: ScriptedWal = scriptedWal('a', { a: 'tt @1' }, { scheduler: clock.scheduler });
  await clock.advance(1);
  scripted.close();
  const seen: WalMessage[] = [];
  scanWal(wal, { vchannel: 'v1', logger }).subscribe((m) => seen.push(m));
  const err: unknown = new Error('x');
  if (err instanceof WalError) console.log(err.code);
  // @ts-expect-error a vchannel is a string
  await wal.append({ type: 'Insert', vchannel: 1 });
  return seen;
}
`;
  const noDefault = `// @ts-expect-error rxwal has no default export: \`import rxwal from 'rxwal'\` would crash at run time
import rxwal from 'rxwal';
void rxwal;
`;
  const tsconfig = (options, include) =>
    `${JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, types: ['node'], ...options }, include }, null, 2)}\n`;
  const consumers = {
    'ts-node16': {
      'package.json': '{ "type": "module" }\n',
      'tsconfig.json': tsconfig(
        { module: 'node16', moduleResolution: 'node16', target: 'es2022' },
        ['*.ts', '*.cts'],
      ),
      'main.ts': imports + typed,
      'default.ts': noDefault,
      'required.cts': `import rxwal = require('rxwal');
import testing = require('rxwal/testing');
import sqlite = require('rxwal/sqlite');
import prometheus = require('rxwal/prometheus');
export const all = [rxwal.scanWal, testing.walMessages, sqlite.openSqliteWal, prometheus.prometheusMetrics];
`,
    },
    'ts-bundler': {
      'package.json': '{ "type": "module" }\n',
      'tsconfig.json': tsconfig(
        { module: 'esnext', moduleResolution: 'bundler', target: 'es2022' },
        ['*.ts'],
      ),
      'main.ts': imports + typed,
      'default.ts': noDefault,
    },
    'ts-commonjs-node10': {
      'package.json': '{ "type": "commonjs" }\n',
      'tsconfig.json': tsconfig(
        {
          module: 'commonjs',
          moduleResolution: 'node10',
          target: 'es2022',
          esModuleInterop: true,
          ignoreDeprecations: '6.0',
        },
        ['*.ts'],
      ),
      'main.ts': imports + typed,
      // here the default import type-checks, so it must also work
      'default.ts': `import rxwal from 'rxwal';
import testing from 'rxwal/testing';
import sqlite from 'rxwal/sqlite';
import prometheus from 'rxwal/prometheus';
const found = [rxwal.scanWal, testing.walMessages, sqlite.openSqliteWal, prometheus.prometheusMetrics];
if (!found.every((f) => typeof f === 'function')) throw new Error('default imports: ' + String(found));
console.log('ok');
`,
    },
  };

  step('consumers without the optional peers: ESM JS, CJS JS');
  write(join(work, 'esm-js'), esmJs);
  write(join(work, 'cjs-js'), cjsJs);
  for (const name of ['esm-js', 'cjs-js']) {
    run('node', [join(work, name, 'main.js'), 'bare'], { cwd: join(work, name) });
  }

  step('the core entry loads no logging library and no Node built-in');
  const loaded = run(
    'node',
    [
      '-e',
      `const Module = require('node:module');
       const seen = [];
       const load = Module._load;
       Module._load = function (request, parent, isMain) {
         seen.push(request);
         return load.call(this, request, parent, isMain);
       };
       require('rxwal');
       Module._load = load;
       const external = seen.filter((r) => !r.startsWith('.'));
       console.log(JSON.stringify([...new Set(external)].sort()));`,
    ],
    { cwd: work },
  );
  const external = JSON.parse(loaded);
  const forbidden = external.filter((r) => r === 'pino' || isBuiltin(r));
  if (forbidden.length > 0) throw new Error(`require('rxwal') loaded ${forbidden.join(', ')}`);

  step('consumers with the peers: ESM JS, CJS JS (memory and SQLite scans, prom-client)');
  for (const peer of ['better-sqlite3', 'prom-client']) {
    symlinkSync(join(repo, 'node_modules', peer), join(modules, peer));
  }
  for (const name of ['esm-js', 'cjs-js']) {
    run('node', [join(work, name, 'main.js'), join(work, `${name}.sqlite`)], {
      cwd: join(work, name),
    });
  }

  for (const [name, files] of Object.entries(consumers)) {
    step(`type-check ${name}`);
    write(join(work, name), files);
    run('node', [tsc, '-p', join(work, name, 'tsconfig.json')]);
  }
  step('run the default imports of ts-commonjs-node10, compiled');
  const out = join(work, 'ts-commonjs-node10', 'out');
  run('node', [
    tsc,
    '-p',
    join(work, 'ts-commonjs-node10', 'tsconfig.json'),
    '--noEmit',
    'false',
    '--outDir',
    out,
  ]);
  run('node', [join(out, 'default.js')], { cwd: join(work, 'ts-commonjs-node10') });

  step('the installed rxwal --help');
  const help = run(join(modules, '.bin', 'rxwal'), ['--help'], { cwd: work });
  if (!help.includes('rxwal scan')) throw new Error(`rxwal --help printed:\n${help}`);

  step(`check:package passed in ${work}`);
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
}
