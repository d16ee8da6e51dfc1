import { describeFailure, ExitCode, MissingWalError, NotAWalError } from '../../lib/cli/errors.js';
import { APPEND_HELP, MAIN_HELP, SCAN_HELP, STATS_HELP } from '../../lib/cli/help.js';
import { CorruptRecordError, InvalidMessageError } from '../../lib/errors.js';
import { closeHarnessWals, harness } from './harness.js';
import { sampleWal } from './fixtures.js';

describe('rxwal (in-process): help, version, usage errors', () => {
  afterEach(closeHarnessWals);

  it('prints the help with --help, -h and help, exit 0', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const h = harness();
      await expect(h.run(flag)).resolves.toBe(ExitCode.Ok);
      expect(h.stdout.text).toBe(MAIN_HELP);
      expect(h.stderr.text).toBe('');
    }
  });

  it('prints a command help with <command> --help and help <command>', async () => {
    const pages: [string, string][] = [
      ['scan', SCAN_HELP],
      ['append', APPEND_HELP],
      ['stats', STATS_HELP],
    ];
    for (const [command, page] of pages) {
      const flag = harness();
      await expect(flag.run(command, '--help')).resolves.toBe(0);
      expect(flag.stdout.text).toBe(page);
      const topic = harness();
      await expect(topic.run('help', command)).resolves.toBe(0);
      expect(topic.stdout.text).toBe(page);
    }
  });

  it('documents every exit code in every help page', () => {
    for (const page of [MAIN_HELP, SCAN_HELP, APPEND_HELP, STATS_HELP]) {
      for (const code of Object.values(ExitCode))
        expect(page).toMatch(new RegExp(`^  ${code}  `, 'm'));
    }
  });

  it('prints the version with --version and -V', async () => {
    for (const flag of ['--version', '-V']) {
      const h = harness();
      await expect(h.run(flag)).resolves.toBe(0);
      expect(h.stdout.text).toBe('9.9.9-test\n');
    }
  });

  it('answers a bare rxwal with the help on stderr, exit 2', async () => {
    const h = harness();
    await expect(h.run()).resolves.toBe(ExitCode.Usage);
    expect(h.stderr.text).toBe(MAIN_HELP);
    expect(h.stdout.text).toBe('');
  });

  it.each([
    [
      ['frobnicate', 'log.db'],
      'rxwal: unknown command "frobnicate": use scan, append or stats (see rxwal --help)',
    ],
    [['--frob'], 'rxwal: unknown option --frob (see rxwal --help)'],
    [['scan'], 'rxwal: scan: missing <wal> (a file) (see rxwal scan --help)'],
    [['scan', 'a.db', 'b.db'], 'rxwal: scan: unexpected argument "b.db" (see rxwal scan --help)'],
    [['scan', 'log.db', '--frob'], "rxwal: scan: Unknown option '--frob' (see rxwal scan --help)"],
    [
      ['scan', 'log.db', '--vchannel'],
      "rxwal: scan: Option '--vchannel <value>' argument missing (see rxwal scan --help)",
    ],
    [
      ['scan', 'log.db', '--from', 'yesterday'],
      'rxwal: scan: --from must be all, latest or a message id (got "yesterday") (see rxwal scan --help)',
    ],
    [
      ['scan', 'log.db', '--after', '-1'],
      "rxwal: scan: Option '--after' argument is ambiguous (see rxwal scan --help)",
    ],
    [
      ['scan', 'log.db', '--after', 'x'],
      'rxwal: scan: --after needs a message id, a non-negative integer (got "x") (see rxwal scan --help)',
    ],
    [
      ['scan', 'log.db', '--from', '1', '--after', '2'],
      'rxwal: scan: --from and --after both say where to start: give one (see rxwal scan --help)',
    ],
    [
      ['scan', 'log.db', '--from', '18446744073709551616'],
      'rxwal: scan: --from 18446744073709551616 is beyond 2^64 - 1 (see rxwal scan --help)',
    ],
    [
      ['scan', 'log.db', '--type', 'TimeTick'],
      'rxwal: scan: --type "TimeTick": system types always pass and cannot be listed (see rxwal scan --help)',
    ],
    [
      ['scan', 'log.db', '--type', ''],
      'rxwal: scan: --type "": types must be non-empty strings (see rxwal scan --help)',
    ],
    [
      ['scan', 'log.db', '--since-tick', 'soon'],
      'rxwal: scan: --since-tick needs a time tick (an integer) or an ISO date (got "soon") (see rxwal scan --help)',
    ],
    [
      ['scan', 'log.db', '--format', 'xml'],
      'rxwal: scan: --format must be pretty or json (got "xml") (see rxwal scan --help)',
    ],
    [
      ['scan', 'log.db', '--pause-mode', 'never'],
      'rxwal: scan: --pause-mode must be start or live (got "never") (see rxwal scan --help)',
    ],
    [
      ['scan', 'log.db', '--metrics-port', '70000'],
      'rxwal: scan: --metrics-port needs a port number 0-65535 (got "70000") (see rxwal scan --help)',
    ],
    [
      ['stats', 'log.db', '--format', 'yaml'],
      'rxwal: stats: --format must be pretty or json (got "yaml") (see rxwal stats --help)',
    ],
    [
      ['append', 'log.db', '--keepalive', '5s'],
      'rxwal: append: --keepalive applies to --txn only (see rxwal append --help)',
    ],
    [
      ['append', 'log.db', '--txn', '--keepalive', '5 parsecs'],
      'rxwal: append: invalid --keepalive: is not a duration (use milliseconds or a string like \'5s\') (got "5 parsecs") (see rxwal append --help)',
    ],
    [
      ['append', 'log.db', '--payload-codec', 'xml'],
      'rxwal: append: --payload-codec must be raw or json (got "xml") (see rxwal append --help)',
    ],
  ])('rejects %j with exit code 2 before opening anything', async (argv, message) => {
    const h = harness({ wal: sampleWal() });
    await expect(h.run(...argv)).resolves.toBe(ExitCode.Usage);
    expect(h.stderr.text).toBe(`${message}\n`);
    expect(h.stdout.text).toBe('');
    expect(h.opened).toEqual([]);
  });

  it('exits 3 when the WAL file does not exist (scan, stats)', async () => {
    for (const command of ['scan', 'stats']) {
      const h = harness();
      await expect(h.run(command, 'nope.db')).resolves.toBe(ExitCode.MissingFile);
      expect(h.stderr.text).toBe('rxwal: no such WAL file: nope.db\n');
    }
  });

  it('maps every failure to its exit code', () => {
    expect(describeFailure(new MissingWalError('a.db'))).toEqual({
      code: 3,
      message: 'no such WAL file: a.db',
    });
    expect(describeFailure(new CorruptRecordError('12', 'bad crc')).code).toBe(4);
    const wrapped = new Error('catch-up failed', {
      cause: new CorruptRecordError('12', 'bad crc'),
    });
    expect(describeFailure(wrapped)).toEqual({ code: 4, message: 'corrupt record 12: bad crc' });
    expect(describeFailure(new NotAWalError('a.txt', 'is not an SQLite database')).code).toBe(4);
    expect(describeFailure(new InvalidMessageError('type', '', 'must not be empty')).code).toBe(5);
    expect(describeFailure(new Error('disk full'))).toEqual({ code: 1, message: 'disk full' });
    expect(describeFailure('weird')).toEqual({ code: 1, message: 'weird' });
  });
});
