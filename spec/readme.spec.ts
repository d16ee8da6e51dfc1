import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

/** The README's marble example must be the test that runs (spec/testing/readme.spec.ts). */
test('the README marble-test example is the one in spec/testing/readme.spec.ts', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /```ts\n(import \{ createWalTestScheduler[\s\S]*?)```/.exec(readme)?.[1];
  const spec = readFileSync(join(root, 'spec/testing/readme.spec.ts'), 'utf8')
    .replace('// README example\n', '')
    .replace("'../../lib/testing/index.js'", "'rxwal/testing'")
    .replace("'../../lib/index.js'", "'rxwal'");
  expect(block).toBe(spec);
});

test('the README quick start shows the demo and the test command', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  expect(readme).toMatch(/npm ci && npm start/);
  expect(readme).toMatch(/^npm test\b/m);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  expect(pkg.scripts.start).toContain('examples/demo.ts');
});
