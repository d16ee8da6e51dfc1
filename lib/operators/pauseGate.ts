import {
  asyncScheduler,
  isObservable,
  Observable,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';

import { ConfigError } from '../errors.js';
import { LinkedObserver, subscribeLinked } from '../internal/linkedObserver.js';
import type { ObservedOptions } from '../observability/observed.js';
import { resolveObserved } from '../observability/resolve.js';

/** Options of {@link pauseGate}. */
export interface PauseGateOptions extends ObservedOptions {
  /** Pass straight through, never reading `pause$` (recovery readers, replicators). */
  ignore?: boolean;
  /** `'start'` (default): holds only the start; `'live'`: later pauses hold delivery too. */
  mode?: 'start' | 'live';
  /** Measures the pause duration; default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /**
   * Told when the gate starts (`true`) and stops (`false`) holding. `scanWal` uses it to stop
   * reading the WAL while a live pause holds delivery.
   */
  onHoldChange?: (holding: boolean) => void;
}

/**
 * Holds consumption while an operator switch says "paused" (reference § 5, DESIGN decision 4):
 * the lever that lets a crash-looping node keep writing its log while nothing consumes it.
 *
 * `pause$` is subscribed first and watched (no lost update between reading and watching); the
 * source is subscribed only once `pause$` says `false`. Until then nothing upstream runs.
 * - `mode: 'start'` (default): only the start is gated, as in the reference; once open, later
 *   values are not watched.
 * - `mode: 'live'`: `true` later holds delivery again — values are kept, in order, and delivered
 *   when `pause$` says `false`; a completion or error of the source waits behind them.
 * - `ignore: true`: the source passes straight through; `pause$` is never subscribed.
 * - A value that is not a boolean is logged as an error and changes nothing: it is never taken
 *   as "resume". Before a first valid value the gate holds.
 * - `pause$` completing while the gate holds keeps it holding (logged); an error from `pause$`
 *   becomes the result's error.
 * - Metrics: `pauseStarted()` when the gate actually holds, `pauseEnded(ms)` when it opens or is
 *   unsubscribed while holding, so a paused gauge counts each paused scanner exactly once.
 *
 * ```
 * pause$:  t-------f------
 * source:  ^-------a--b--|     (subscribed when pause$ says f)
 * result:  --------a--b--|
 * ```
 *
 * @param pause$ the switch, usually a `BehaviorSubject<boolean>`
 * @param options `mode`, `ignore`, `scheduler`, logger and metrics
 * @returns an operator that delays the source's subscription (and, live, its delivery)
 *
 * @example
 * ```ts
 * const pause$ = new BehaviorSubject(true);
 * scanWal(wal).pipe(pauseGate(pause$)).subscribe(apply); // nothing yet
 * pause$.next(false);                                   // consumption starts
 * ```
 * @see scanWal
 */
export function pauseGate<T>(
  pause$: Observable<boolean>,
  options?: PauseGateOptions,
): MonoTypeOperatorFunction<T> {
  const { logger, metrics } = resolveObserved(options, 'pauseGate');
  const ignore = options?.ignore ?? false;
  const mode = options?.mode ?? 'start';
  const scheduler = options?.scheduler === undefined ? asyncScheduler : options.scheduler;
  const onHoldChange = options?.onHoldChange;
  if (typeof ignore !== 'boolean') throw new ConfigError('ignore', ignore, 'must be a boolean');
  if (mode !== 'start' && mode !== 'live')
    throw new ConfigError('mode', mode, "must be 'start' or 'live'");
  if (typeof scheduler?.now !== 'function') {
    throw new ConfigError('scheduler', scheduler, 'must be a SchedulerLike');
  }
  if (onHoldChange !== undefined && typeof onHoldChange !== 'function') {
    throw new ConfigError('onHoldChange', onHoldChange, 'must be a function');
  }
  if (ignore) return (source) => source;
  if (!isObservable(pause$))
    throw new ConfigError('pause$', pause$, 'must be an Observable<boolean>');

  return (source) =>
    new Observable<T>((subscriber) => {
      let holding = true;
      let holdingSince: number | undefined;
      let sourceSubscribed = false;
      let subscribingToSwitch = true;
      let switchSubscription: Subscription | undefined = undefined;
      // live mode: values and the source's end that arrived while paused
      let held: T[] = [];
      let heldEnd: { readonly error: unknown } | 'complete' | undefined;
      let flushing = false;

      const startHolding = (): void => {
        if (holdingSince !== undefined) return;
        holdingSince = scheduler.now();
        metrics.pauseStarted();
        onHoldChange?.(true);
        logger.info(
          {},
          sourceSubscribed
            ? 'pause consumption: delivery held'
            : 'pause consumption: waiting for pause$ to say false',
        );
      };
      const stopHolding = (why: 'resumed' | 'canceled'): void => {
        if (holdingSince === undefined) return;
        const durationMs = Math.max(0, scheduler.now() - holdingSince);
        holdingSince = undefined;
        metrics.pauseEnded(durationMs);
        onHoldChange?.(false);
        logger.info(
          { durationMs },
          why === 'resumed' ? 'continue to consume messages' : 'pause consumption is canceled',
        );
      };
      subscriber.add(() => stopHolding('canceled'));

      const subscribeSource = (): void => {
        sourceSubscribed = true;
        if (mode === 'start') switchSubscription?.unsubscribe();
        new GateSourceSubscriber<T>(subscriber, {
          next(value) {
            if (holding || flushing) held.push(value);
            else subscriber.next(value);
          },
          error(err) {
            if (holding || flushing) heldEnd = { error: err };
            else subscriber.error(err);
          },
          complete() {
            if (holding || flushing) heldEnd = 'complete';
            else subscriber.complete();
          },
        }).linkTo(source);
      };

      const release = (): void => {
        if (flushing) return; // resumed from inside a flush: the running flush carries on
        flushing = true;
        let i = 0;
        while (i < held.length && !holding && !subscriber.closed) subscriber.next(held[i++] as T);
        held = i === held.length ? [] : held.slice(i);
        flushing = false;
        if (held.length > 0 || holding || heldEnd === undefined) return;
        if (heldEnd === 'complete') subscriber.complete();
        else subscriber.error(heldEnd.error);
      };

      const onSwitch = (paused: unknown): void => {
        if (typeof paused !== 'boolean') {
          logger.error(
            { value: paused },
            'pause$ gave a value that is not a boolean; keeping the current state',
          );
          if (holding) startHolding();
          return;
        }
        if (paused) {
          // the start gate is checked once, when it opens (the last value given while
          // subscribing counts: `of(false, true)` holds)
          if (!holding && mode === 'start' && sourceSubscribed) return;
          holding = true;
          startHolding();
          return;
        }
        if (!holding) return;
        holding = false;
        stopHolding('resumed');
        if (!sourceSubscribed) {
          if (!subscribingToSwitch) subscribeSource();
        } else {
          release();
        }
      };

      switchSubscription = subscribeLinked(pause$, subscriber, {
        next: onSwitch,
        complete() {
          if (holding)
            logger.warn({}, 'pause$ completed while paused; staying paused until unsubscribed');
        },
      });
      subscribingToSwitch = false;
      if (subscriber.closed) return;
      if (!holding)
        subscribeSource(); // pause$ said false synchronously: start outside its emission
      else startHolding(); // no value yet, or "paused": hold
    });
}

/**
 * The gate's subscription to its source: its own `next` (see {@link LinkedSubscriber}), since
 * every message a scanner delivers passes here. The gate's handlers hold or pass each event.
 */
class GateSourceSubscriber<T> extends LinkedObserver<T> {
  override next(value: T): void {
    if (this.closed) return;
    try {
      this.handlers.next(value);
    } catch (err) {
      this.error(err);
    }
  }
}
