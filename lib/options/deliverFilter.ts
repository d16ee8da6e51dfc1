import { ConfigError } from '../errors.js';
import { isSystemMessageType, MessageType, type WalMessage } from '../message/message.js';
import { toTimeTick, type TimeTick } from '../message/tso.js';

/**
 * What a consumer keeps (reference § 2.2). Filters in a list are AND-ed.
 * - `timeTickGT` / `timeTickGTE`: a message without a transaction, a `CommitTxn` (or an assembled
 *   `Txn`) is kept iff its tick is `>` / `>=` the bound; other transaction messages (begin, body,
 *   rollback) are always kept, because the commit alone decides whether a transaction is in;
 * - `messageType`: system types are always kept; any other type iff it is in the list.
 */
export type DeliverFilter =
  | {
      /** Keeps what comes after `timeTick`. */
      readonly kind: 'timeTickGT';
      /** The bound (exclusive). */
      readonly timeTick: TimeTick;
    }
  | {
      /** Keeps what comes at or after `timeTick`. */
      readonly kind: 'timeTickGTE';
      /** The bound (inclusive). */
      readonly timeTick: TimeTick;
    }
  | {
      /** Keeps the listed data types and every system type. */
      readonly kind: 'messageType';
      /** The data types kept. */
      readonly types: ReadonlySet<MessageType>;
    };

/**
 * Builds {@link DeliverFilter} values.
 *
 * @example
 * ```ts
 * scanWal(wal, {
 *   deliverPolicy: DeliverPolicy.startFrom(checkpoint.lastConfirmedId),
 *   filters: [DeliverFilter.timeTickGT(checkpoint.timeTick), DeliverFilter.messageType('Insert')],
 * });
 * ```
 */
export const DeliverFilter = {
  /** Keeps messages with a tick greater than `tt` (see {@link DeliverFilter} for transactions). */
  timeTickGT(tt: TimeTick): DeliverFilter {
    return Object.freeze({
      kind: 'timeTickGT',
      timeTick: toTimeTick(tt, 'DeliverFilter.timeTickGT'),
    });
  },
  /** Keeps messages with a tick greater than or equal to `tt`. */
  timeTickGTE(tt: TimeTick): DeliverFilter {
    return Object.freeze({
      kind: 'timeTickGTE',
      timeTick: toTimeTick(tt, 'DeliverFilter.timeTickGTE'),
    });
  },
  /** Keeps the given data types (and every system type). A system type in the list is an error. */
  messageType(...types: MessageType[]): DeliverFilter {
    if (types.length === 0) {
      throw new ConfigError('DeliverFilter.messageType', types, 'needs at least one message type');
    }
    for (const type of types) {
      if (typeof type !== 'string' || type === '') {
        throw new ConfigError('DeliverFilter.messageType', type, 'types must be non-empty strings');
      }
      if (isSystemMessageType(type)) {
        throw new ConfigError(
          'DeliverFilter.messageType',
          type,
          'system types always pass and cannot be listed',
        );
      }
    }
    return Object.freeze({ kind: 'messageType', types: new Set(types) });
  },
} as const;

/** True for messages whose own tick decides the tick filters (no txn, a commit, an assembled txn). */
function judgedByTick(m: WalMessage): boolean {
  return m.txn === undefined || m.type === MessageType.CommitTxn || m.type === MessageType.Txn;
}

/**
 * One predicate for a filter list (reference § 2.3): the AND of every filter, in list order,
 * stopping at the first `false`; an empty list keeps everything. Built eagerly, so a malformed
 * filter throws {@link ConfigError} here rather than on the first message.
 *
 * @example
 * ```ts
 * const keep = deliverFilterPredicate([DeliverFilter.timeTickGT(5n)]);
 * keep(message); // boolean
 * ```
 */
export function deliverFilterPredicate(
  filters: readonly DeliverFilter[],
  option = 'filters',
): (m: WalMessage) => boolean {
  if (!Array.isArray(filters))
    throw new ConfigError(option, filters, 'must be an array of DeliverFilter');
  const predicates = filters.map((filter, i) => filterPredicate(filter, `${option}[${i}]`));
  if (predicates.length === 0) return () => true;
  if (predicates.length === 1) return predicates[0] as (m: WalMessage) => boolean;
  return (m) => {
    for (const keep of predicates) if (!keep(m)) return false;
    return true;
  };
}

function filterPredicate(filter: unknown, option: string): (m: WalMessage) => boolean {
  const f = filter as Partial<{ kind: string; timeTick: unknown; types: unknown }> | null;
  switch (f?.kind) {
    case 'timeTickGT': {
      const bound = toTimeTick(f.timeTick, option);
      return (m) => !judgedByTick(m) || m.timeTick > bound;
    }
    case 'timeTickGTE': {
      const bound = toTimeTick(f.timeTick, option);
      return (m) => !judgedByTick(m) || m.timeTick >= bound;
    }
    case 'messageType': {
      if (!(f.types instanceof Set)) break;
      const types = f.types as ReadonlySet<MessageType>;
      return (m) => types.has(m.type) || isSystemMessageType(m.type);
    }
  }
  throw new ConfigError(
    option,
    filter,
    'is not a DeliverFilter (use DeliverFilter.timeTickGT() and friends)',
  );
}
