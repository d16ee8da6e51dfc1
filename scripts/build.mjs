// Builds the dual package: CommonJS in dist/cjs (with the `rxwal` command), ES modules in
// dist/esm, each marked with its own package.json so Node and TypeScript read the files (and
// their declarations) the way they were compiled. Declarations no entry point can reach are
// removed, so the tarball ships only what a user's compiler can load.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The subpath entry points, as paths under dist/<format>/ without extension. */
export const ENTRY_POINTS = [
  'index',
  'testing/index',
  'sqlite/index',
  'nats/index',
  'prometheus/index',
];

rmSync('dist', { recursive: true, force: true });
const tsc = (project) =>
  execFileSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', project], {
    stdio: 'inherit',
  });
tsc('tsconfig.build.json');
tsc('tsconfig.build.esm.json');
for (const [dir, type] of [
  ['dist/cjs', 'commonjs'],
  ['dist/esm', 'module'],
]) {
  writeFileSync(`${dir}/package.json`, `${JSON.stringify({ type }, null, 2)}\n`);
}

// ES modules have no `require`: the peer loader resolves peers from its own URL instead
writeFileSync(
  'dist/esm/internal/peerRequire.js',
  [
    "import { createRequire } from 'node:module';",
    '/** `require` for optional peer dependencies, resolved from this file (ES module build). */',
    'export const peerRequire = createRequire(import.meta.url);',
    '',
  ].join('\n'),
);
rmSync('dist/esm/internal/peerRequire.js.map');

// `import rxwal from 'rxwal'` in CommonJS TypeScript with esModuleInterop type-checks (the
// declarations have no default export, so TypeScript synthesises one from the whole module) and
// compiles to `require('rxwal').default`: make that the module itself, so it works as it checks.
// ES module builds have no default export, and there TypeScript rejects the import.
for (const entry of ENTRY_POINTS) {
  const file = `dist/cjs/${entry}.js`;
  const text = readFileSync(file, 'utf8');
  const marker = '//# sourceMappingURL=';
  const at = text.lastIndexOf(marker);
  writeFileSync(
    file,
    `${text.slice(0, at)}Object.defineProperty(exports, "default", { value: exports });\n${text.slice(at)}`,
  );
}

chmodSync('dist/cjs/cli/main.js', 0o755);

for (const format of ['cjs', 'esm']) {
  const root = `dist/${format}`;
  const reachable = new Set();
  const visit = (file) => {
    if (reachable.has(file)) return;
    reachable.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:from |import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(resolve(dirname(file), spec.replace(/\.js$/, '.d.ts')));
    }
  };
  for (const entry of ENTRY_POINTS) visit(resolve(root, `${entry}.d.ts`));
  let removed = 0;
  const walk = (dir) => {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, name.name);
      if (name.isDirectory()) walk(path);
      else if (name.name.endsWith('.d.ts') && !reachable.has(resolve(path))) {
        rmSync(path);
        if (existsSync(`${path}.map`)) rmSync(`${path}.map`);
        removed += 1;
      }
    }
  };
  walk(root);
  console.log(
    `built ${root}: ${reachable.size} declaration files reachable from the entry points, ${removed} unreachable removed`,
  );
}
