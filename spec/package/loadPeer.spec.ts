import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { WalError } from '../../lib/errors.js';
import { loadPeer } from '../../lib/internal/loadPeer.js';
import { BETTER_SQLITE3_RANGE, betterSqlite3RuntimeProblem } from '../../lib/sqlite/fileErrors.js';
import { REPO } from './bundles.js';

/**
 * Runs the real `rxwal` command (through tsx) in a process where `require('better-sqlite3')`
 * fails as it does when the package is not installed.
 */
function rxwalWithoutSqlite(
  dir: string,
  args: string[],
  input: string,
): Promise<{ code: number | null; stderr: string }> {
  const hide = join(dir, 'hideBetterSqlite3.cjs');
  writeFileSync(
    hide,
    `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'better-sqlite3') {
    throw Object.assign(new Error("Cannot find module 'better-sqlite3'"), { code: 'MODULE_NOT_FOUND' });
  }
  return resolve.call(this, request, ...rest);
};
`,
  );
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--require', hide, '--import', 'tsx', join(REPO, 'lib/cli/main.ts'), ...args],
      { cwd: REPO, encoding: 'utf8' },
      (err, _stdout, stderr) => done({ code: err === null ? 0 : (child.exitCode ?? 1), stderr }),
    );
    child.stdin?.end(input);
  });
}

const missing = { name: 'rxwal-no-such-peer', range: '^1.0.0', neededBy: 'rxwal/test' };

describe('loadPeer (optional peer dependencies)', () => {
  it('returns the module when the peer is installed', () => {
    const rxjs = loadPeer<typeof import('rxjs')>({ ...missing, name: 'rxjs' });
    expect(typeof rxjs.Observable).toBe('function');
  });

  it('names the package, the version range and the install command when it is missing', () => {
    let thrown: unknown;
    try {
      loadPeer(missing);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(WalError);
    expect(thrown).toMatchObject({ code: 'MISSING_PEER' });
    expect((thrown as Error).message).toBe(
      "rxwal/test needs rxwal-no-such-peer ^1.0.0, an optional peer dependency of rxwal that is not installed: npm install rxwal-no-such-peer@'^1.0.0'",
    );
    expect((thrown as Error).cause).toMatchObject({ code: 'MODULE_NOT_FOUND' });
  });

  it('says to rebuild when the peer is there but does not load (a native module built for another Node)', () => {
    const failure = new Error('The module was compiled against a different Node.js version');
    expect(() =>
      loadPeer(missing, () => {
        throw failure;
      }),
    ).toThrow(
      new WalError(
        'MISSING_PEER',
        "rxwal/test could not load rxwal-no-such-peer (The module was compiled against a different Node.js version); it needs rxwal-no-such-peer ^1.0.0 built for this Node.js (npm install rxwal-no-such-peer@'^1.0.0', or npm rebuild rxwal-no-such-peer)",
        { cause: failure },
      ),
    );
  });

  it('does not blame the peer for a module the peer itself is missing', () => {
    const inner = Object.assign(new Error("Cannot find module 'bindings'"), {
      code: 'MODULE_NOT_FOUND',
    });
    expect(() =>
      loadPeer(missing, () => {
        throw inner;
      }),
    ).toThrow(/could not load rxwal-no-such-peer \(Cannot find module 'bindings'\)/);
  });

  it("names the better-sqlite3 range package.json's peerDependencies declare", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
    };
    expect(BETTER_SQLITE3_RANGE).toBe(pkg.peerDependencies['better-sqlite3']);
  });

  it('the rxwal command without better-sqlite3 names the accepted range and the install command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxwal-no-sqlite-'));
    try {
      const { code, stderr } = await rxwalWithoutSqlite(
        dir,
        ['append', join(dir, 'log.sqlite')],
        '{"type":"Insert","vchannel":"v1"}\n',
      );
      expect([code, stderr]).toEqual([
        1,
        "rxwal: rxwal/sqlite needs better-sqlite3 ^12.0.0 || ^13.0.0, an optional peer dependency of rxwal that is not installed: npm install better-sqlite3@'^12.0.0 || ^13.0.0'\n",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('better-sqlite3 13 on a Node.js that cannot run it', () => {
  it.each([
    ['13.2.0', 'v20.20.2', true],
    ['13.0.0', 'v21.7.3', true],
    ['13.2.0', 'v22.23.5', false],
    ['13.2.0', 'v24.22.3', false],
    ['12.11.1', 'v20.20.2', false],
    ['12.0.0', 'v24.22.3', false],
  ])('better-sqlite3 %s on Node.js %s refused: %s', (version, node, refused) => {
    const problem = betterSqlite3RuntimeProblem(version, node);
    if (!refused) {
      expect(problem).toBeUndefined();
      return;
    }
    expect(problem).toBe(
      `rxwal/sqlite: better-sqlite3 ${version} needs Node.js 22 or later, and this is Node.js ${node}; install better-sqlite3 12 for it: npm install better-sqlite3@'^12.0.0'`,
    );
  });

  it('loading rxwal/sqlite with 13 installed fails with that message before Node 22, loads after', () => {
    let thrown: unknown;
    let loaded: unknown;
    jest.isolateModules(() => {
      jest.doMock('better-sqlite3/package.json', () => ({ version: '13.2.0' }));
      try {
        loaded = jest.requireActual('../../lib/sqlite/schema.js');
      } catch (err) {
        thrown = err;
      }
    });
    jest.dontMock('better-sqlite3/package.json');
    if (Number(process.versions.node.split('.')[0]) < 22) {
      expect(thrown).toBeInstanceOf(WalError);
      expect(thrown).toMatchObject({
        code: 'MISSING_PEER',
        message: betterSqlite3RuntimeProblem('13.2.0', process.version),
      });
    } else {
      expect(thrown).toBeUndefined();
      expect(loaded).toHaveProperty('connectDatabase');
    }
  });
});
