import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
