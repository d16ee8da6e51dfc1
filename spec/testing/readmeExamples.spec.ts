import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** The README's rxwal/testing examples must be the tests that run, word for word. */
test.each(['readmePause.spec.ts', 'readmeRetry.spec.ts'])(
  'the README shows spec/testing/%s as it runs',
  (file) => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const example = readFileSync(join(root, 'spec', 'testing', file), 'utf8')
      .replace('// README example\n', '')
      .replace("'../../lib/testing/index.js'", "'rxwal/testing'")
      .replace("'../../lib/index.js'", "'rxwal'");
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks).toContain(example);
  },
);
