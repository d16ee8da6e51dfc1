import { tso } from '../message/tso.js';
import type { ReadableWal } from '../wal/wal.js';
import { choiceOption, parseCommandArgs, walPath } from './args.js';
import type { CliDeps } from './deps.js';
import { ExitCode } from './errors.js';
import { NATS_CLI_OPTIONS, natsCredentialsOf } from './natsLocation.js';
import { tickDate } from './format.js';
import { STATS_HELP } from './help.js';
import { LineWriter } from './output.js';
import { readWalStats, type WalStats } from './walStats.js';

const STATS_OPTIONS = { format: { type: 'string' }, ...NATS_CLI_OPTIONS } as const;

/** `rxwal stats <wal>`: counts by type and vchannel, tick range, open transactions, size. */
export async function statsCommand(argv: string[], deps: CliDeps): Promise<ExitCode> {
  const args = parseCommandArgs('stats', argv, STATS_OPTIONS);
  if (args.values.help === true) {
    deps.stdout.write(STATS_HELP);
    return ExitCode.Ok;
  }
  const path = walPath('stats', args.positionals);
  const format = choiceOption('stats', args.values, 'format', ['pretty', 'json'], 'pretty');
  const nats = natsCredentialsOf('stats', args.values, path);
  const wal = await deps.openWal(path, { readOnly: true, ...(nats === undefined ? {} : { nats }) });
  let stats: WalStats;
  try {
    const readable: ReadableWal = wal.accessMode === 'ro' ? wal : (wal.readOnly?.() ?? wal);
    stats = wal.stats?.() ?? (await readWalStats(readable));
  } finally {
    await wal.close();
  }
  const out = new LineWriter(deps.stdout);
  if (format === 'json') await out.line(JSON.stringify(statsToJson(stats)));
  else for (const line of prettyStats(path, stats)) await out.line(line);
  return ExitCode.Ok;
}

/** The JSON form: ids and ticks as strings, the tick range also as ISO dates. */
export function statsToJson(stats: WalStats): Record<string, unknown> {
  return {
    channel: stats.channel,
    messages: stats.messages,
    firstId: stats.firstId?.key ?? null,
    lastId: stats.lastId?.key ?? null,
    byType: stats.byType,
    byVChannel: stats.byVChannel,
    timeTicks:
      stats.timeTicks === undefined
        ? null
        : {
            min: stats.timeTicks.min.toString(),
            max: stats.timeTicks.max.toString(),
            from: tickDate(stats.timeTicks.min),
            to: tickDate(stats.timeTicks.max),
          },
    openTransactions: stats.openTransactions.map((t) => ({
      txnId: t.txnId.toString(),
      vchannel: t.vchannel,
      beginId: t.beginId.key,
      messages: t.messages,
    })),
    ...(stats.fileBytes === undefined ? {} : { fileBytes: stats.fileBytes }),
    ...(stats.payloadCodec === undefined ? {} : { payloadCodec: stats.payloadCodec }),
  };
}

function prettyStats(path: string, stats: WalStats): string[] {
  const lines = [`${path} (channel ${stats.channel})`];
  const ids =
    stats.firstId === undefined ? '' : `, ids ${stats.firstId.key}..${stats.lastId?.key ?? ''}`;
  lines.push(`  messages      ${count(stats.messages)}${ids}`);
  if (stats.fileBytes !== undefined) lines.push(`  size          ${formatBytes(stats.fileBytes)}`);
  if (stats.payloadCodec !== undefined) lines.push(`  payloads      ${stats.payloadCodec}`);
  if (stats.timeTicks !== undefined) {
    const { min, max } = stats.timeTicks;
    const spanMs = tso.physical(max) - tso.physical(min);
    lines.push(`  time ticks    ${tickDate(min)} .. ${tickDate(max)} (${formatSpan(spanMs)})`);
  } else {
    lines.push('  time ticks    none');
  }
  lines.push('  by type', ...table(stats.byType, (key) => key));
  lines.push('  by vchannel', ...table(stats.byVChannel, (key) => (key === '' ? "'' (all)" : key)));
  lines.push(`  open transactions  ${stats.openTransactions.length}`);
  for (const t of stats.openTransactions) {
    lines.push(
      `    txn ${t.txnId} on ${t.vchannel}: begin #${t.beginId.key}, ${count(t.messages)} messages`,
    );
  }
  return lines;
}

function table(counts: Readonly<Record<string, number>>, label: (key: string) => string): string[] {
  const entries = Object.entries(counts);
  const width = Math.max(0, ...entries.map(([key]) => label(key).length));
  return entries.map(([key, n]) => `    ${label(key).padEnd(width)}  ${count(n).padStart(10)}`);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit] as string} (${count(n)} bytes)`;
}

function formatSpan(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
