import { InvalidMessageError } from '../errors.js';
import { createMessage, type MessageInit } from '../message/createMessage.js';
import { isTxnMessage, MessageType, type WalMessage } from '../message/message.js';

const TYPE_ALIASES: Readonly<Record<string, string>> = {
  tt: MessageType.TimeTick,
  ins: MessageType.Insert,
  insert: MessageType.Insert,
  del: MessageType.Delete,
  delete: MessageType.Delete,
  begin: MessageType.BeginTxn,
  commit: MessageType.CommitTxn,
  rollback: MessageType.RollbackTxn,
};

/**
 * Parses one message written in rxwal's short notation:
 *
 * ```
 * <type>[:<txnId>] [<vchannel>] @<tick> [#<id>] [np] [lc=<id>] [keepalive=<duration>] [size=<n>]
 * ```
 *
 * `type` is a message type or an alias (`tt`, `ins`, `del`, `begin`, `commit`, `rollback`);
 * `:<txnId>` puts it in a transaction; `np` marks a time tick not persisted. Without `#<id>` the
 * message takes `defaultId`.
 *
 * @example
 * ```ts
 * parseWalMessage('tt @100', 1);                 // a persisted time tick, id 1
 * parseWalMessage('ins v1 @103 #2');              // an insert on v1
 * parseWalMessage('begin:7 v1 @101 keepalive=10s', 4);
 * ```
 */
export function parseWalMessage(text: string, defaultId?: number | bigint): WalMessage {
  if (typeof text !== 'string') throw new InvalidMessageError('notation', text, 'must be a string');
  const tokens = text.trim().split(/\s+/);
  const head = tokens.shift() ?? '';
  const [rawType = '', txnPart] = head.split(':');
  const init: Partial<MessageInit> & { txn?: { txnId: bigint; keepalive?: string } } = {
    type: TYPE_ALIASES[rawType] ?? rawType,
  };
  if (txnPart !== undefined) init.txn = { txnId: parseInteger(txnPart, 'txnId', text) };
  for (const token of tokens) {
    if (token.startsWith('@')) init.timeTick = parseInteger(token.slice(1), 'timeTick', text);
    else if (token.startsWith('#')) init.id = parseInteger(token.slice(1), 'id', text);
    else if (token === 'np') init.persisted = false;
    else if (token.startsWith('lc='))
      init.lastConfirmedId = parseInteger(token.slice(3), 'lastConfirmedId', text);
    else if (token.startsWith('size='))
      init.size = Number(parseInteger(token.slice(5), 'size', text));
    else if (token.startsWith('keepalive=')) {
      if (init.txn === undefined)
        throw new InvalidMessageError('notation', text, 'keepalive needs a <type>:<txnId>');
      init.txn.keepalive = token.slice('keepalive='.length);
    } else if (init.vchannel === undefined) init.vchannel = token;
    else
      throw new InvalidMessageError(
        'notation',
        text,
        `has an unexpected token ${JSON.stringify(token)}`,
      );
  }
  if (init.timeTick === undefined)
    throw new InvalidMessageError('notation', text, 'needs a time tick (@<tick>)');
  if (init.id === undefined) {
    if (defaultId === undefined)
      throw new InvalidMessageError('notation', text, 'needs an id (#<id>)');
    init.id = defaultId;
  }
  return createMessage(init as MessageInit);
}

function parseInteger(text: string, field: string, notation: string): bigint {
  if (!/^\d+$/.test(text))
    throw new InvalidMessageError(
      field,
      text,
      `must be a non-negative integer in ${JSON.stringify(notation)}`,
    );
  return BigInt(text);
}

/**
 * Messages for a marble test, one per key, written in the notation of {@link parseWalMessage}.
 * Messages without `#<id>` get ids 1, 2, 3 … in key order, so the record reads like a log.
 *
 * @example
 * ```ts
 * const m = walMessages({ a: 'tt @100', b: 'ins v1 @103', c: 'ins v2 @102', d: 'tt @104' });
 * cold('a-b-c-d|', m).pipe(filterVChannel('v1'), reorderUntilTick());
 * ```
 */
export function walMessages<K extends string>(
  spec: Readonly<Record<K, string>>,
): Record<K, WalMessage> {
  const out = {} as Record<K, WalMessage>;
  let nextId = 1;
  for (const key of Object.keys(spec) as K[]) {
    out[key] = parseWalMessage(spec[key], nextId++);
  }
  return out;
}

/**
 * The canonical one-line form of a message: the notation of {@link parseWalMessage} with the id
 * always written, `lc=` only when it differs from the id, and a `Txn`'s bodies in brackets.
 *
 * @example
 * ```ts
 * formatWalMessage(txn); // 'Txn:7 v1 @106 #7 lc=4 [Insert:7 v1 @106 #5 lc=4]'
 * ```
 */
export function formatWalMessage(m: WalMessage): string {
  let text = m.type;
  if (m.txn !== undefined) text += `:${m.txn.txnId}`;
  if (m.vchannel !== '') text += ` ${m.vchannel}`;
  text += ` @${m.timeTick} #${m.id.key}`;
  if (!m.persisted) text += ' np';
  if (m.lastConfirmedId.key !== m.id.key) text += ` lc=${m.lastConfirmedId.key}`;
  if (isTxnMessage(m)) text += ` [${m.body.map(formatWalMessage).join(', ')}]`;
  return text;
}
