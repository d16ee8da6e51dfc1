import { ConfigError } from '../errors.js';
import { isMessageId, type MessageId } from '../message/messageId.js';

/**
 * Where a WAL read starts (reference § 2.1). The scanner never interprets it; the WAL does.
 * - `all`: from the earliest retained message;
 * - `latest`: only messages appended after the reader is created;
 * - `startFrom`: from `id`, inclusive;
 * - `startAfter`: from the message right after `id`.
 */
export type DeliverPolicy =
  | {
      /** Everything from the start of the log. */
      readonly kind: 'all';
    }
  | {
      /** What is written after the scanner subscribes. */
      readonly kind: 'latest';
    }
  | {
      /** From `id` on, `id` included. */
      readonly kind: 'startFrom';
      /** The first message read. */
      readonly id: MessageId;
    }
  | {
      /** From the message after `id` on. */
      readonly kind: 'startAfter';
      /** The last message not read. */
      readonly id: MessageId;
    };

const ALL: DeliverPolicy = Object.freeze({ kind: 'all' });
const LATEST: DeliverPolicy = Object.freeze({ kind: 'latest' });

/**
 * Builds {@link DeliverPolicy} values.
 *
 * @example
 * ```ts
 * scanWal(wal, { deliverPolicy: DeliverPolicy.startFrom(checkpoint.lastConfirmedId) });
 * ```
 */
export const DeliverPolicy = {
  /** From the earliest retained message. */
  all(): DeliverPolicy {
    return ALL;
  },
  /** Only messages appended after the reader is created. */
  latest(): DeliverPolicy {
    return LATEST;
  },
  /** From `id`, inclusive. */
  startFrom(id: MessageId): DeliverPolicy {
    return Object.freeze({ kind: 'startFrom', id: checkId(id, 'DeliverPolicy.startFrom') });
  },
  /** From the message right after `id`. */
  startAfter(id: MessageId): DeliverPolicy {
    return Object.freeze({ kind: 'startAfter', id: checkId(id, 'DeliverPolicy.startAfter') });
  },
} as const;

function checkId(id: unknown, option: string): MessageId {
  if (!isMessageId(id)) throw new ConfigError(option, id, 'needs a MessageId (see messageId())');
  return id;
}

/** Validates a policy given as an option; throws {@link ConfigError} naming `option`. */
export function checkDeliverPolicy(policy: unknown, option = 'deliverPolicy'): DeliverPolicy {
  if (typeof policy === 'object' && policy !== null) {
    const { kind, id } = policy as { kind?: unknown; id?: unknown };
    if (kind === 'all' || kind === 'latest') return policy as DeliverPolicy;
    if ((kind === 'startFrom' || kind === 'startAfter') && isMessageId(id)) {
      return policy as DeliverPolicy;
    }
  }
  throw new ConfigError(
    option,
    policy,
    'is not a DeliverPolicy (use DeliverPolicy.all() and friends)',
  );
}
