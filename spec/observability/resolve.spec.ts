import { ConfigError } from '../../lib/errors.js';
import pino from 'pino';

import {
  childLogger,
  resolvedLogger,
  silentLogger,
  type Logger,
} from '../../lib/observability/logger.js';
import { createInMemoryMetrics, noopMetrics } from '../../lib/observability/metrics.js';
import { catchupModel, type ObservedOptions } from '../../lib/observability/observed.js';
import { logFields, resolveObserved } from '../../lib/observability/resolve.js';
import { parseWalMessage } from '../../lib/testing/notation.js';

const LOGGER_METHODS = ['child', 'trace', 'debug', 'info', 'warn', 'error'] as const;

function fakeLogger(): Record<(typeof LOGGER_METHODS)[number] | 'isLevelEnabled', jest.Mock> {
  const fake = {
    child: jest.fn(),
    trace: jest.fn(),
    debug: jest.fn(),
    info: jest.fn(),
    warn: jest.fn(),
    error: jest.fn(),
    isLevelEnabled: jest.fn(() => false),
  };
  fake.child.mockReturnValue({ ...fake, child: jest.fn(), marker: 'child' });
  return fake;
}

describe('resolveObserved', () => {
  it('fills in the defaults: the silent logger, noopMetrics, the catch-up model', () => {
    for (const options of [undefined, {}]) {
      const observed = resolveObserved(options, 'reorderUntilTick');
      expect(observed.logger).toBe(silentLogger());
      expect(observed.metrics).toBe(noopMetrics);
      expect(observed.scannerModel).toBe(catchupModel);
      expect(observed.scannerModel()).toBe('catchup');
      expect(observed.activeMetrics).toBeUndefined();
    }
  });

  it("uses a child of the given logger bound to the operator's component", () => {
    const logger = fakeLogger();
    const observed = resolveObserved({ logger: logger as unknown as Logger }, 'txnBuffer');
    expect(logger.child).toHaveBeenCalledWith({ component: 'txnBuffer' });
    expect(observed.logger).toBe(logger.child.mock.results[0]?.value);
    expect(observed.logger).toMatchObject({ marker: 'child' });
  });

  it('keeps the given metrics and scanner model', () => {
    const metrics = createInMemoryMetrics();
    const scannerModel = (): 'tailing' => 'tailing';
    const observed = resolveObserved({ metrics, scannerModel }, 'filterVChannel');
    expect(observed.metrics).toBe(metrics);
    expect(observed.scannerModel).toBe(scannerModel);
    expect(observed.activeMetrics).toBe(metrics);
  });

  it('has no active metrics when given noopMetrics itself: the hot paths then skip the hooks', () => {
    const observed = resolveObserved({ metrics: noopMetrics }, 'reorderUntilTick');
    expect(observed.metrics).toBe(noopMetrics);
    expect(observed.activeMetrics).toBeUndefined();
  });

  it('treats a copy of noopMetrics as active: only noopMetrics itself is known to count nothing', () => {
    const copy = { ...noopMetrics };
    expect(resolveObserved({ metrics: copy }, 'txnBuffer').activeMetrics).toBe(copy);
  });

  it.each<unknown>([null, 'options', 3, true])(
    'rejects options that are not an object (%p)',
    (options) => {
      expect(() => resolveObserved(options as ObservedOptions, 'pauseGate')).toThrow(
        expect.objectContaining({ option: 'pauseGate options', value: options }),
      );
      expect(() => resolveObserved(options as ObservedOptions, 'pauseGate')).toThrow(ConfigError);
    },
  );

  it.each(LOGGER_METHODS)('rejects a logger without %s()', (method) => {
    const logger: Partial<Record<string, unknown>> = fakeLogger();
    delete logger[method];
    expect(() => resolveObserved({ logger: logger as unknown as Logger }, 'x')).toThrow(
      new ConfigError('logger', logger, `must be a pino-compatible logger (no ${method}())`),
    );
  });

  it('rejects a logger whose isLevelEnabled is not a function', () => {
    const logger = { ...fakeLogger(), isLevelEnabled: true };
    expect(() => resolveObserved({ logger: logger as unknown as Logger }, 'x')).toThrow(
      new ConfigError('logger', logger, 'must be a pino-compatible logger (isLevelEnabled)'),
    );
  });

  it('accepts a logger without isLevelEnabled and treats every level as enabled', () => {
    const lines: unknown[][] = [];
    const logger: Logger = {
      child: () => logger,
      trace: (...args) => lines.push(['trace', ...args]),
      debug: (...args) => lines.push(['debug', ...args]),
      info: (...args) => lines.push(['info', ...args]),
      warn: (...args) => lines.push(['warn', ...args]),
      error: (...args) => lines.push(['error', ...args]),
    };
    const observed = resolveObserved({ logger }, 'x');
    expect(observed.logger.isLevelEnabled('trace')).toBe(true);
    const child = observed.logger.child({ a: 1 });
    expect(child.isLevelEnabled('debug')).toBe(true);
    for (const level of ['trace', 'debug', 'info', 'warn', 'error'] as const) {
      child[level]({ n: 1 }, level);
    }
    expect(lines).toEqual(
      ['trace', 'debug', 'info', 'warn', 'error'].map((level) => [level, { n: 1 }, level]),
    );
  });

  it.each<unknown>([null, 'prometheus', 1])(
    'rejects metrics that are not an object (%p)',
    (metrics) => {
      expect(() => resolveObserved({ metrics } as unknown as ObservedOptions, 'x')).toThrow(
        expect.objectContaining({ option: 'metrics', value: metrics }),
      );
    },
  );

  it('rejects a scannerModel that is not a function', () => {
    expect(() =>
      resolveObserved({ scannerModel: 'tailing' } as unknown as ObservedOptions, 'x'),
    ).toThrow(expect.objectContaining({ option: 'scannerModel', value: 'tailing' }));
  });
});

describe('logFields', () => {
  it('describes a message with strings only (bigint ticks included)', () => {
    const m = parseWalMessage('ins v1 @18446744073709551615 #42');
    expect(logFields(m)).toEqual({
      id: '42',
      type: 'Insert',
      timeTick: '18446744073709551615',
      vchannel: 'v1',
    });
  });
});

describe('logger', () => {
  it('silentLogger is one frozen object that logs nothing and enables no level', () => {
    const logger = silentLogger();
    expect(silentLogger()).toBe(logger);
    expect(Object.isFrozen(logger)).toBe(true);
    expect(logger.child({ a: 1 })).toBe(logger);
    expect(logger.isLevelEnabled('error')).toBe(false);
    expect(logger.isLevelEnabled('fatal')).toBe(false);
    for (const level of ['trace', 'debug', 'info', 'warn', 'error'] as const) {
      expect(logger[level]({}, 'dropped')).toBeUndefined();
    }
  });

  it('resolvedLogger keeps a logger that has isLevelEnabled as it is', () => {
    const logger = pino({ level: 'warn' });
    expect(resolvedLogger(logger)).toBe(logger);
    expect(resolvedLogger(logger).isLevelEnabled('debug')).toBe(false);
  });

  it('childLogger returns the silent logger when no logger is given', () => {
    expect(childLogger(undefined, { component: 'x' })).toBe(silentLogger());
  });

  it('childLogger binds the fields on the given logger', () => {
    const logger = fakeLogger();
    const child = childLogger(logger as unknown as Logger, { component: 'x', channel: 'p0' });
    expect(logger.child).toHaveBeenCalledWith({ component: 'x', channel: 'p0' });
    expect(child).toBe(logger.child.mock.results[0]?.value);
  });
});
