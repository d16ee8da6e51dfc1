import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory per test file; `path(name)` names a file in it. */
export function tempFiles(): { path(name?: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'rxwal-sqlite-'));
  let n = 0;
  return {
    path: (name = `wal-${++n}.db`) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
