import { from, type OperatorFunction } from 'rxjs';

import type { WalMessage } from '../../lib/message/message.js';
import { formatWalMessage } from '../../lib/testing/notation.js';

/** What `operator` delivers from `messages`, in the canonical notation. */
export function deliveredBy(
  messages: readonly WalMessage[],
  operator: OperatorFunction<WalMessage, WalMessage>,
): string[] {
  const out: string[] = [];
  from(messages)
    .pipe(operator)
    .subscribe((m) => out.push(formatWalMessage(m)));
  return out;
}
