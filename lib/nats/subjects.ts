import { ConfigError } from '../errors.js';

const PLAIN = /^[A-Za-z0-9_-]$/;
const encoder = new TextEncoder();

/**
 * Escapes a name into one NATS subject token (and a valid stream name): letters, digits, `_`
 * and `-` stay; every other UTF-8 byte (dots, spaces, `*`, `>`, `=`, non-ASCII) becomes `=XX`
 * (upper-case hex). The empty name becomes `=`, a token no non-empty name escapes to.
 *
 * @example
 * ```ts
 * escapeSubjectToken('v1');        // 'v1'
 * escapeSubjectToken('a.b c*>');   // 'a=2Eb=20c=2A=3E'
 * ```
 */
export function escapeSubjectToken(name: string): string {
  if (name === '') return '=';
  let out = '';
  for (const ch of name) {
    if (PLAIN.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of encoder.encode(ch))
      out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Where one pchannel lives in JetStream: its stream and its subjects. */
export interface ChannelSubjects {
  /** The stream: `RXWAL_<channel token>`. */
  readonly stream: string;
  /** What the stream captures: `rxwal.<channel token>.>`. */
  readonly filter: string;
  /** Time ticks: `rxwal.<channel token>.t`. */
  readonly timeTick: string;
  /** Messages of the `''` vchannel (broadcasts): `rxwal.<channel token>.b`. */
  readonly broadcast: string;
  /** The subject of a vchannel's data messages: `rxwal.<channel token>.v.<vchannel token>`. */
  vchannel(name: string): string;
}

/**
 * The subjects of a pchannel (docs/nats.md § Mapping).
 *
 * @example
 * ```ts
 * channelSubjects('p0').vchannel('v1'); // 'rxwal.p0.v.v1'
 * ```
 */
export function channelSubjects(channel: string): ChannelSubjects {
  if (typeof channel !== 'string' || channel === '') {
    throw new ConfigError('channel', channel, 'must be a non-empty string');
  }
  const token = escapeSubjectToken(channel);
  const prefix = `rxwal.${token}`;
  const cache = new Map<string, string>();
  return {
    stream: `RXWAL_${token}`,
    filter: `${prefix}.>`,
    timeTick: `${prefix}.t`,
    broadcast: `${prefix}.b`,
    vchannel(name: string): string {
      let subject = cache.get(name);
      if (subject === undefined) {
        subject = `${prefix}.v.${escapeSubjectToken(name)}`;
        if (cache.size < 10_000) cache.set(name, subject);
      }
      return subject;
    },
  };
}

/**
 * @internal Checks a JetStream KV key (letters, digits, `-/_=.`, not starting or ending with a
 * dot), as the pause switch and the checkpoint store take it.
 *
 * @throws ConfigError naming `key`
 */
export function checkKvKey(key: unknown): asserts key is string {
  if (
    typeof key !== 'string' ||
    !/^[-/=.\w]+$/.test(key) ||
    key.startsWith('.') ||
    key.endsWith('.')
  ) {
    throw new ConfigError('key', key, 'must be a KV key (letters, digits, -/_=.)');
  }
}

/**
 * @internal Whether a nats-server version offers consumers with several filter subjects
 * (`filter_subjects`, nats-server 2.10.0 and later). Compares major.minor.patch and ignores a
 * pre-release suffix, as the NATS client's own feature check does; an unknown version says no.
 */
export function supportsMultiSubjectFilters(version: string | undefined): boolean {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version ?? '');
  if (match === null) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 2 || (major === 2 && minor >= 10);
}

/**
 * @internal The subjects a reader hinted at `vchannel` reads: the vchannel's, the broadcasts' and
 * the time ticks' (what a read hint promises, docs/nats.md § Readers) when the server has multi-subject filters;
 * undefined (the whole stream) for the `''` hint or an older server.
 */
export function hintedSubjects(
  subjects: ChannelSubjects,
  vchannel: string,
  serverVersion: string | undefined,
): string[] | undefined {
  if (vchannel === '' || !supportsMultiSubjectFilters(serverVersion)) return undefined;
  return [subjects.vchannel(vchannel), subjects.broadcast, subjects.timeTick];
}
