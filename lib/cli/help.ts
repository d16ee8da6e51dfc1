/** The exit codes as the help texts list them. */
const EXIT_CODES = `Exit codes:
  0  done (scan --follow, append: also when stopped by Ctrl-C / SIGINT or SIGTERM)
  1  any other failure, e.g. a file that cannot be opened (permission, read-only
     file system, missing directory, a directory, no native binding)
  2  usage error: unknown command or option, a bad or missing value
  3  the WAL file does not exist (scan, stats)
  4  a corrupt record or damaged file, or a file that is not an rxwal log
  5  append: a line on stdin is not valid JSON or not a valid message`;

/** The NATS options every command takes. */
const NATS_OPTIONS = `  --user <name>          NATS user (nats:// locations; default: the URL's, else $NATS_USER)
  --password <secret>    NATS password (default: the URL's, else $NATS_PASSWORD)
  --creds <file>         NATS credentials file, JWT and nkey seed (default: $NATS_CREDS)
  --tls-ca <file>        CA certificate (PEM) for a TLS connection (default: $NATS_CA);
                         a tls:// location requires TLS`;

/** `rxwal --help`. */
export const MAIN_HELP = `rxwal — scan, append to and inspect an rxwal write-ahead log: a SQLite file, or a NATS
JetStream stream named nats://host:port/<channel>

Usage:
  rxwal scan <wal> [options]     print messages as a scanner delivers them
  rxwal append <wal> [options]   append JSON lines read from stdin
  rxwal stats <wal> [options]    counts by type and vchannel, tick range, open transactions, size
  rxwal <command> --help         the options of a command
  rxwal --version                the version of rxwal

Examples:
  rxwal scan ./data/demo.sqlite --vchannel v1
  rxwal scan wal.sqlite --from latest --follow --format json
  echo '{"type":"Insert","vchannel":"v1","payload":{"pk":1}}' | rxwal append wal.sqlite
  rxwal stats wal.sqlite
  rxwal scan nats://127.0.0.1:4222/p0 --user app --password secret --follow

${EXIT_CODES}
`;

/** `rxwal scan --help`. */
export const SCAN_HELP = `Usage: rxwal scan <wal> [options]

Prints the messages a scanner delivers, in time-tick order: data messages once each, a
transaction as one Txn message at its commit (with its messages), rolled-back and expired
transactions never (time ticks only with --time-ticks).

Without --follow the scan stops at the log's end: the last record present when it starts. It
prints everything the scanner releases from the records up to that one, then exits 0. Data
written after the last time tick of that range, and transactions still open at its end, are
released only by a later time tick: they are not printed (use --follow to wait for them).
With --follow it keeps reading new records as they are committed, until Ctrl-C or SIGTERM.

Options:
  --vchannel <name>      only this vchannel (time ticks and broadcasts always pass)
  --from <all|latest|id> where to start: all (default), latest (only new records), or a
                         message id, inclusive
  --after <id>           start right after this message id (instead of --from)
  --type <type>          keep only this data type; repeat for more (--type Insert --type
                         Delete); system types always pass and cannot be listed
  --since-tick <tick>    keep messages with a time tick above <tick> (an integer); an ISO date
                         (2025-01-01T12:00:00Z) keeps the ticks from that date on
  -f, --follow           keep reading new records; stop with Ctrl-C or SIGTERM
  --time-ticks           also print time ticks (hidden by default)
  --format <f>           pretty (default): one line per message, a Txn's messages indented;
                         json: one JSON object per line, ticks and ids as strings, a Txn's
                         messages in "body", byte payloads as "payloadText" (UTF-8 text) or
                         "payloadBase64"
  --pause-file <path>    hold the scan while the JSON file says {"pauseConsumption": true};
                         a missing file means not paused
  --pause-kv <b>/<k>     (nats:// locations) the same switch on the JetStream KV key <k> of
                         bucket <b>, on the same server: one write holds or releases every
                         scan that follows it; a missing key means not paused
  --pause-mode <m>       start (default): the switch holds only the start; live: it also holds
                         a running scan
  --metrics-port <port>  serve Prometheus metrics at http://127.0.0.1:<port>/metrics
                         (0: any free port, printed on stderr)
  --checkpoint <file>    resume right after the position saved in <file> (when it exists;
                         it then wins over --from/--after) and save the position of every
                         message handled (printed, or skipped time tick) as the scan goes: a
                         stopped scan restarted with the same file repeats and loses nothing
                         (after a crash, the last line may be printed again)
${NATS_OPTIONS}
  -h, --help             this help

On a terminal, stderr shows catch-up progress (records read, rate, lag to the log's end in
records and in seconds of time ticks).

${EXIT_CODES}
`;

/** `rxwal append --help`. */
export const APPEND_HELP = `Usage: rxwal append <wal> [options] < messages.jsonl

Appends one message per line of stdin and prints the id of each appended message. A line is a
JSON object: {"type": "Insert", "vchannel": "v1", "payload": <any JSON>, "properties": {"k": "v"}}
("type" is required). In a log storing raw bytes (the default payload codec), a string payload
is stored as its UTF-8 bytes and any other JSON as its JSON text; "payloadText": "<text>" and
"payloadBase64": "<base64>" give bytes exactly (scan --format json writes them back that way).
Empty lines are skipped. The file is created when it does not exist. After the last message a time tick is
written, so that a scan sees the messages at once.

Lines are UTF-8; invalid UTF-8 or a lone surrogate ("\\ud800") in any string is a bad line.
Without --txn each line is appended as it is read; a bad line stops the command (exit 5) after
the lines before it were appended. With --txn every line is read and checked first, then all
are appended in one transaction: either all of them are committed or none is. A failed write
(disk full, another writer) ends the command with exit 1. Ctrl-C or SIGTERM stops reading, lets
the appends in flight finish and exits 0.

Options:
  --txn                  append all lines in one transaction
  --vchannel <name>      the transaction's vchannel (default: the lines' own, when they agree);
                         without --txn: the vchannel of lines that name none
  --keepalive <duration> the transaction's keepalive (default 10s; e.g. 30s, 2m)
  --payload-codec <c>    raw (default) or json: how a new file stores payloads (an existing
                         file keeps the codec it was created with)
${NATS_OPTIONS}
  -h, --help             this help

${EXIT_CODES}
`;

/** `rxwal stats --help`. */
export const STATS_HELP = `Usage: rxwal stats <wal> [options]

Summarises a log: records by type and by vchannel, the range of time ticks as dates,
transactions begun but neither committed nor rolled back, and the file's size.

Options:
  --format <f>           pretty (default) or json
${NATS_OPTIONS}
  -h, --help             this help

${EXIT_CODES}
`;
