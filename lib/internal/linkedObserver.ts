import { Subscription, type Observable, type Observer, type Subscriber } from 'rxjs';

/** Handlers of a {@link subscribeLinked} subscription; each defaults to forwarding downstream. */
export interface LinkedHandlers<T> {
  next(value: T): void;
  error?(err: unknown): void;
  complete?(): void;
}

/**
 * An observer that is also a Subscription. rxjs hands such an object straight to the source's
 * subscribe function instead of wrapping it, so the source sees *this* object's `closed` flag.
 * Added to the downstream subscriber before the source starts, it closes the moment the
 * downstream does — a synchronous source stops even while it is still inside `subscribe`
 * (the case the plain `source.subscribe({ next })` pattern gets wrong after `take(n)`).
 */
class LinkedObserver<T> extends Subscription implements Observer<T> {
  constructor(
    private readonly destination: Subscriber<unknown>,
    private readonly handlers: LinkedHandlers<T>,
  ) {
    super();
  }

  next(value: T): void {
    if (this.closed) return;
    try {
      this.handlers.next(value);
    } catch (err) {
      this.error(err); // a throwing user callback becomes an error notification
    }
  }

  error(err: unknown): void {
    if (this.closed) return;
    this.unsubscribe();
    if (this.handlers.error === undefined) {
      this.destination.error(err);
      return;
    }
    try {
      this.handlers.error(err);
    } catch (handlerError) {
      this.destination.error(handlerError);
    }
  }

  complete(): void {
    if (this.closed) return;
    this.unsubscribe();
    if (this.handlers.complete === undefined) {
      this.destination.complete();
      return;
    }
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
  const observer = new LinkedObserver(destination, handlers);
  destination.add(observer);
  source.subscribe(observer);
  return observer;
}
