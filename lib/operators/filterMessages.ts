import { filter, type MonoTypeOperatorFunction } from 'rxjs';

import type { WalMessage } from '../message/message.js';
import { deliverFilterPredicate, type DeliverFilter } from '../options/deliverFilter.js';

/**
 * Keeps the messages that pass every deliver filter (reference § 2.3): the filters are AND-ed in
 * list order; an empty list keeps everything. Applied to every message, time ticks included, so a
 * filtered-out time tick releases nothing downstream.
 *
 * ```
 * source:  --a(tt1)--b(ins@2)--c(tt2)--d(ins@3)--|
 * filterMessages([DeliverFilter.timeTickGT(1n)])
 * result:  ----------b(ins@2)--c(tt2)--d(ins@3)--|
 * ```
 *
 * @param filters built with {@link DeliverFilter}; checked eagerly (ConfigError on a bad one)
 * @returns an operator that drops the messages the filters reject
 *
 * @example
 * ```ts
 * wal$.pipe(filterMessages([DeliverFilter.messageType('Insert')]));
 * ```
 * @see scanWal
 */
export function filterMessages<M extends WalMessage>(
  filters: readonly DeliverFilter[],
): MonoTypeOperatorFunction<M> {
  const keep = deliverFilterPredicate(filters);
  if (filters.length === 0) return (source) => source; // keeps everything: no stage at all
  return filter((m: M) => keep(m));
}
