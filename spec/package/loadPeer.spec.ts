import { WalError } from '../../lib/errors.js';
import { loadPeer } from '../../lib/internal/loadPeer.js';

const missing = { name: 'rxwal-no-such-peer', range: '^1.0.0', neededBy: 'rxwal/test' };

describe('loadPeer (optional peer dependencies)', () => {
  it('returns the module when the peer is installed', () => {
    const rxjs = loadPeer<typeof import('rxjs')>({ ...missing, name: 'rxjs' });
    expect(typeof rxjs.Observable).toBe('function');
  });

  it('names the package, the version range and the install command when it is missing', () => {
    let thrown: unknown;
    try {
      loadPeer(missing);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(WalError);
    expect(thrown).toMatchObject({ code: 'MISSING_PEER' });
    expect((thrown as Error).message).toBe(
      "rxwal/test needs rxwal-no-such-peer ^1.0.0, an optional peer dependency of rxwal that is not installed: npm install rxwal-no-such-peer@'^1.0.0'",
    );
    expect((thrown as Error).cause).toMatchObject({ code: 'MODULE_NOT_FOUND' });
  });

  it('says to rebuild when the peer is there but does not load (a native module built for another Node)', () => {
    const failure = new Error('The module was compiled against a different Node.js version');
    expect(() =>
      loadPeer(missing, () => {
        throw failure;
      }),
    ).toThrow(
      new WalError(
        'MISSING_PEER',
        "rxwal/test could not load rxwal-no-such-peer (The module was compiled against a different Node.js version); it needs rxwal-no-such-peer ^1.0.0 built for this Node.js (npm install rxwal-no-such-peer@'^1.0.0', or npm rebuild rxwal-no-such-peer)",
        { cause: failure },
      ),
    );
  });

  it('does not blame the peer for a module the peer itself is missing', () => {
    const inner = Object.assign(new Error("Cannot find module 'bindings'"), {
      code: 'MODULE_NOT_FOUND',
    });
    expect(() =>
      loadPeer(missing, () => {
        throw inner;
      }),
    ).toThrow(/could not load rxwal-no-such-peer \(Cannot find module 'bindings'\)/);
  });
});
