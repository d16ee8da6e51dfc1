import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { build, type BuildOptions, type Metafile } from 'esbuild';

export const REPO = resolve(__dirname, '../..');

/**
 * A fresh directory under the repository's `.scratch/`, so that bundles that keep their
 * packages external find them in the repository's node_modules.
 */
export function scratchDir(name: string): string {
  const base = join(REPO, '.scratch');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${name}-`));
}

/**
 * Bundles `lib/index.ts` (rxwal's root entry) as one module of `format` into `dir`, with every
 * package left external, and marks `dir` with a package.json of the matching module type.
 */
export async function bundleRoot(
  dir: string,
  format: 'cjs' | 'esm',
  extra: BuildOptions = {},
): Promise<{ file: string; metafile: Metafile }> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ type: format === 'esm' ? 'module' : 'commonjs' }),
  );
  const file = join(dir, 'index.js');
  const result = await build({
    entryPoints: [join(REPO, 'lib/index.ts')],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format,
    target: 'node20',
    outfile: file,
    metafile: true,
    logLevel: 'silent',
    ...extra,
  });
  if (result.metafile === undefined) throw new Error('esbuild returned no metafile');
  return { file, metafile: result.metafile };
}
