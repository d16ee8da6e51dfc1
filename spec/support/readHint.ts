import { MessageType, type WalMessage } from '../../lib/message/message.js';

/**
 * The specs' oracle of `ReadHint` (lib/wal/wal.ts): whether `m` belongs to what a reader hinted at
 * `vchannel` returns (its messages, the `''` broadcasts and every time tick; everything for `''`).
 */
export function matchesHint(m: WalMessage, vchannel: string): boolean {
  return (
    vchannel === '' ||
    m.vchannel === '' ||
    m.vchannel === vchannel ||
    m.type === MessageType.TimeTick
  );
}
