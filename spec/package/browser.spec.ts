import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';

import { REPO } from './bundles.js';

/** Debian's chromium; `.ci/run` installs it when it is missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') {
    throw new Error(`CI=true but there is no browser at ${CHROMIUM}: apt-get install -y chromium`);
  }
  console.warn(`no chromium at ${CHROMIUM}: skipping the browser spec (apt-get install chromium)`);
}
const describeWithBrowser = available ? describe : describe.skip;

describeWithBrowser('rxwal in a browser (esbuild bundle, headless Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('filterVChannel, reorderUntilTick, txnBuffer, pauseGate and scanWal over a memory WAL deliver in the page', async () => {
    const bundle = await build({
      entryPoints: [join(REPO, 'spec/package/browser/entry.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    const code = bundle.outputFiles[0]?.text ?? '';
    expect(code).not.toMatch(/\brequire\(["']node:/);

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.setContent('<!doctype html><title>rxwal</title>');
    await page.addScriptTag({ content: code });
    await page.waitForFunction(
      () => {
        const g = globalThis as { rxwalResult?: unknown; rxwalError?: unknown };
        return g.rxwalResult !== undefined || g.rxwalError !== undefined;
      },
      undefined,
      { timeout: 20_000 },
    );
    const outcome = await page.evaluate(() => {
      const g = globalThis as { rxwalResult?: unknown; rxwalError?: unknown };
      return { result: g.rxwalResult, error: g.rxwalError, isNode: typeof process !== 'undefined' };
    });
    await page.close();

    expect(problems).toEqual([]);
    expect(outcome.error).toBeUndefined();
    expect(outcome.isNode).toBe(false);
    expect(outcome.result).toEqual({
      operators: [
        'Insert:v1@101',
        'Insert:v1@102',
        'TimeTick:@103',
        'Txn:7[Insert@106]@106',
        'TimeTick:@107',
      ],
      scanWal: ['Insert:a', 'Txn[Delete:c]'],
    });
  }, 60_000);
});
