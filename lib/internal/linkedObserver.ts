import { Subscription, type Observable, type Observer, type Subscriber } from 'rxjs';

/**
 * An observer that is also a Subscription. rxjs hands such an object straight to the source's
 * subscribe function instead of wrapping it, so the source sees *this* object's `closed` flag.
 * Added to the downstream subscriber before the source starts ({@link LinkedSubscriber.linkTo}),
 * it closes the moment the downstream does — a synchronous source stops even while it is still
 * inside `subscribe` (the case the plain `source.subscribe({ next })` pattern gets wrong after
 * `take(n)`). Errors and completions are forwarded downstream.
 *
 * A hot operator subclasses it and writes `next` itself, guard included:
 *
 * ```ts
 * next(m: M): void {
 *   if (this.closed) return;
 *   try { this.handle(m); } catch (err) { this.error(err); } // a throwing callback → error
 * }
 * ```
 *
 * so that each operator's call into its own code and into the next stage is a call site of its
 * own, which V8 inlines along the chain. One shared `next` calling a handler sees every
 * operator's handler and inlines none of them: the three operators over W1 went from about 0.77
 * to 0.87 of the plain-loop limit when they stopped sharing it (bench/README.md).
 */
export abstract class LinkedSubscriber<T> extends Subscription implements Observer<T> {
  constructor(protected readonly destination: Subscriber<unknown>) {
    super();
  }

  abstract next(value: T): void;

  error(err: unknown): void {
    if (this.closed) return;
    this.unsubscribe();
    this.destination.error(err);
  }

  complete(): void {
    if (this.closed) return;
    this.unsubscribe();
    this.destination.complete();
  }

  /** Ties this subscriber to its destination, then subscribes it to `source`. */
  linkTo(source: Observable<T>): this {
    this.destination.add(this);
    source.subscribe(this);
    return this;
  }
}

/** Handlers of a {@link subscribeLinked} subscription; each defaults to forwarding downstream. */
export interface LinkedHandlers<T> {
  next(value: T): void;
  error?(err: unknown): void;
  complete?(): void;
}

/**
 * A {@link LinkedSubscriber} whose behaviour is a handlers object, for operators off the hot path.
 * A hot one that needs its own error and completion handlers subclasses it and overrides only
 * `next`, whose call to `this.handlers.next` is then a call site of its own.
 */
export class LinkedObserver<T> extends LinkedSubscriber<T> {
  constructor(
    destination: Subscriber<unknown>,
    protected readonly handlers: LinkedHandlers<T>,
  ) {
    super(destination);
  }

  next(value: T): void {
    if (this.closed) return;
    try {
      this.handlers.next(value);
    } catch (err) {
      this.error(err); // a throwing user callback becomes an error notification
    }
  }

  override error(err: unknown): void {
    if (this.closed) return;
    if (this.handlers.error === undefined) {
      super.error(err);
      return;
    }
    this.unsubscribe();
    try {
      this.handlers.error(err);
    } catch (handlerError) {
      this.destination.error(handlerError);
    }
  }

  override complete(): void {
    if (this.closed) return;
    if (this.handlers.complete === undefined) {
      super.complete();
      return;
    }
    this.unsubscribe();
    try {
      this.handlers.complete();
    } catch (err) {
      this.destination.error(err);
    }
  }
}

/**
 * Subscribes to `source` on behalf of `destination`: the inner subscription is tied to the
 * destination before the source emits, handler exceptions become error notifications, and
 * errors/completions are forwarded unless a handler is given.
 */
export function subscribeLinked<T>(
  source: Observable<T>,
  destination: Subscriber<unknown>,
  handlers: LinkedHandlers<T>,
): Subscription {
  return new LinkedObserver(destination, handlers).linkTo(source);
}
