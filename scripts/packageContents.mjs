// What the installed rxwal package holds, checked file by file (used by scripts/checkPackage.mjs;
// publint and attw look at the exports, not at these): the files a user or npm relies on are
// there, every source map and declaration map points at shipped sources, every declaration is
// reachable from an entry point, no ES module copy of the command ships, and `bin` is a plain
// relative path (npm publish drops a `./`-prefixed one with only a warning).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Every file under `dir`, as absolute paths. */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The declaration files reachable from `entries` through relative imports and re-exports. */
function reachableDeclarations(entries) {
  const reachable = new Set();
  const visit = (file) => {
    if (reachable.has(file) || !existsSync(file)) return;
    reachable.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:from |import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(resolve(dirname(file), spec.replace(/\.js$/, '.d.ts')));
    }
  };
  for (const entry of entries) visit(entry);
  return reachable;
}

/**
 * The problems found in the installed package at `root` (its directory in node_modules); an
 * empty list when there are none.
 */
export function packageProblems(root) {
  const problems = [];
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

  for (const name of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
    if (!existsSync(join(root, name))) problems.push(`${name} is not in the package`);
  }

  for (const [command, path] of Object.entries(pkg.bin ?? {})) {
    if (path.startsWith('./')) problems.push(`bin ${command} starts with ./ (${path})`);
    const file = join(root, path);
    if (!existsSync(file)) problems.push(`bin ${command} points at a missing file (${path})`);
    else if ((statSync(file).mode & 0o111) === 0) problems.push(`bin ${command} is not executable`);
  }

  if (existsSync(join(root, 'dist/esm/cli'))) {
    problems.push('dist/esm/cli ships (the command runs from dist/cjs only)');
  }

  const dist = filesUnder(join(root, 'dist'));
  for (const file of dist) {
    const isCode = file.endsWith('.js') || file.endsWith('.d.ts');
    if (!isCode) continue;
    const text = readFileSync(file, 'utf8');
    const mapName = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
    const at = relative(root, file);
    if (mapName === undefined) {
      // peerRequire.js of the ES module build is written by the build, not compiled
      if (!at.endsWith('esm/internal/peerRequire.js')) problems.push(`${at} has no source map`);
      continue;
    }
    const mapFile = resolve(dirname(file), mapName);
    if (!existsSync(mapFile)) {
      problems.push(`${at} names a missing map ${mapName}`);
      continue;
    }
    const map = JSON.parse(readFileSync(mapFile, 'utf8'));
    for (const source of map.sources) {
      const sourceFile = resolve(dirname(mapFile), map.sourceRoot ?? '', source);
      if (!sourceFile.startsWith(`${root}/`) || !existsSync(sourceFile)) {
        problems.push(`${relative(root, mapFile)} points at ${source}, which is not shipped`);
      }
    }
  }

  const entries = Object.values(pkg.exports)
    .flatMap((target) =>
      typeof target === 'string' ? [] : [target.import?.types, target.require?.types],
    )
    .filter((types) => typeof types === 'string')
    .map((types) => resolve(root, types));
  const reachable = reachableDeclarations(entries);
  for (const entry of entries) {
    if (!existsSync(entry))
      problems.push(`${relative(root, entry)} (an export's types) is missing`);
  }
  for (const file of dist.filter((f) => f.endsWith('.d.ts'))) {
    if (!reachable.has(file)) {
      problems.push(`${relative(root, file)} is unreachable from every entry point`);
    }
  }
  return problems;
}
