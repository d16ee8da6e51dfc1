import { WalError } from '../errors.js';
import { peerRequire } from './peerRequire.js';

/** An optional peer dependency: its package name, the versions rxwal works with, who needs it. */
export interface Peer {
  readonly name: string;
  readonly range: string;
  readonly neededBy: string;
}

/**
 * Loads an optional peer dependency, or throws a {@link WalError} (code `'MISSING_PEER'`) that
 * names the package, the version range and the install command.
 */
export function loadPeer<T>(peer: Peer, load: (id: string) => unknown = peerRequire): T {
  try {
    return load(peer.name) as T;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const message = String((err as { message?: unknown } | null)?.message ?? err);
    const install = `npm install ${peer.name}@'${peer.range}'`;
    if (code === 'MODULE_NOT_FOUND' && message.includes(`'${peer.name}'`)) {
      throw new WalError(
        'MISSING_PEER',
        `${peer.neededBy} needs ${peer.name} ${peer.range}, an optional peer dependency of rxwal that is not installed: ${install}`,
        { cause: err },
      );
    }
    throw new WalError(
      'MISSING_PEER',
      `${peer.neededBy} could not load ${peer.name} (${message}); it needs ${peer.name} ${peer.range} built for this Node.js (${install}, or npm rebuild ${peer.name})`,
      { cause: err },
    );
  }
}
