import { Observable, type MonoTypeOperatorFunction, type Subscriber } from 'rxjs';

import { ConfigError } from '../errors.js';
import { MessageType, type WalMessage } from '../message/message.js';
import { LinkedSubscriber } from '../internal/linkedObserver.js';
import type { ScannerMetrics, ScannerModel } from '../observability/metrics.js';
import type { ObservedOptions } from '../observability/observed.js';
import { resolveObserved, type Observed } from '../observability/resolve.js';

/** A module constant: compared per message, so no property load (bench/README.md). */
const TIME_TICK = MessageType.TimeTick;

/**
 * Keeps the consumer's vchannel (reference § 4.3 step 5): a data message is dropped iff both its
 * vchannel and `vchannel` are non-empty and differ. Time ticks and `''` (every-vchannel) messages
 * always pass; `''` as `vchannel` keeps everything.
 *
 * Metrics: every message is observed (`observeMessage`), every data message that passes is
 * counted as passed (`observePassedMessage`).
 *
 * ```
 * source:  --a(tt1)--b(ins v1)--c(ins v2)--d(ins '')--|
 * filterVChannel('v1')
 * result:  --a(tt1)--b(ins v1)------------d(ins '')--|
 * ```
 *
 * @param vchannel the consumer's vchannel; `''` for all
 * @param options logger and metrics
 * @returns an operator that drops other vchannels' data messages
 *
 * @example
 * ```ts
 * wal$.pipe(filterVChannel('by-dev-rootcoord-dml_0_v1'));
 * ```
 * @see scanWal
 */
export function filterVChannel<M extends WalMessage>(
  vchannel: string,
  options?: ObservedOptions,
): MonoTypeOperatorFunction<M> {
  if (typeof vchannel !== 'string') {
    throw new ConfigError('vchannel', vchannel, "must be a string ('' for every vchannel)");
  }
  const observed = resolveObserved(options, 'filterVChannel');
  return (source) =>
    new Observable<M>((subscriber) => {
      new VChannelFilterSubscriber(subscriber, vchannel, observed).linkTo(source);
    });
}

/** One subscription of {@link filterVChannel}: its own `next`, see {@link LinkedSubscriber}. */
class VChannelFilterSubscriber<M extends WalMessage> extends LinkedSubscriber<M> {
  /** Undefined when nothing counts (`Observed.activeMetrics`): no hook is called, no model asked. */
  private readonly metrics: ScannerMetrics | undefined;
  private readonly scannerModel: () => ScannerModel;

  constructor(
    destination: Subscriber<M>,
    private readonly vchannel: string,
    observed: Observed,
  ) {
    super(destination);
    this.metrics = observed.activeMetrics;
    this.scannerModel = observed.scannerModel;
  }

  next(m: M): void {
    if (this.closed) return;
    try {
      this.filter(m);
    } catch (err) {
      this.error(err);
    }
  }

  private filter(m: M): void {
    const { metrics, scannerModel } = this;
    let model: ScannerModel = 'catchup';
    if (metrics !== undefined) {
      model = scannerModel();
      metrics.observeMessage(model, m.type, m.size);
    }
    if (m.type !== TIME_TICK) {
      const vchannel = this.vchannel;
      if (vchannel !== '' && m.vchannel !== '' && m.vchannel !== vchannel) return;
      if (metrics !== undefined) metrics.observePassedMessage(model, m.type, m.size);
    }
    this.destination.next(m);
  }
}
