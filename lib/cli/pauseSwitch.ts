import type { Writable } from 'node:stream';

import pino from 'pino';

import { pauseFromFile } from '../config/pauseFromFile.js';
import { ConfigError } from '../errors.js';
import type { PauseSwitch } from './deps.js';
import { UsageError } from './errors.js';

/**
 * `scan --pause-file <path>`: {@link pauseFromFile} on the file, its complaints about an invalid
 * file written to stderr as `rxwal: …` lines.
 */
export function filePauseSwitch(path: string, stderr: Writable): PauseSwitch {
  const logger = pino(
    { level: 'warn', base: null, timestamp: false },
    { write: (line: string) => void stderr.write(`rxwal: ${logMessage(line)}\n`) },
  );
  try {
    const subject = pauseFromFile(path, { logger });
    return { pause$: subject, close: () => subject.close() };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new UsageError(`scan: --pause-file ${path}: ${err.message}`, 'scan');
  }
}

/** The message of a pino JSON line, with its `path` and error when it has them. */
function logMessage(line: string): string {
  try {
    const record = JSON.parse(line) as { msg?: unknown; path?: unknown; err?: unknown };
    const path = typeof record.path === 'string' ? `${record.path}: ` : '';
    const err =
      typeof record.err === 'object' && record.err !== null && 'message' in record.err
        ? ` (${String(record.err.message)})`
        : typeof record.err === 'string'
          ? ` (${record.err})`
          : '';
    return `${path}${String(record.msg)}${err}`;
  } catch {
    return line.trim();
  }
}
