import { ConfigError, InvalidMessageError } from '../../lib/errors.js';

/** Runs `fn`, expects it to throw an `errorClass` and returns the error for further assertions. */
export function thrownBy<E extends Error>(
  errorClass: new (...args: never[]) => E,
  fn: () => unknown,
): E {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(errorClass);
    return err as E;
  }
  throw new Error(`expected ${errorClass.name}, nothing was thrown`);
}

/** Runs `fn`, expects a ConfigError and returns it. */
export const configErrorOf = (fn: () => unknown): ConfigError => thrownBy(ConfigError, fn);

/** Runs `fn`, expects an InvalidMessageError and returns it. */
export const invalidMessageErrorOf = (fn: () => unknown): InvalidMessageError =>
  thrownBy(InvalidMessageError, fn);
