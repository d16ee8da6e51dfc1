import { parseDuration } from '../../lib/internal/duration.js';
import { configErrorOf } from '../support/errors.js';

describe('parseDuration', () => {
  describe('numbers are milliseconds', () => {
    it.each([
      [0, 0],
      [200, 200],
      [1.5, 1.5],
      [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ])('%p => %p', (value, millis) => {
      expect(parseDuration(value, 'opt')).toBe(millis);
    });
  });

  describe('strings are parsed with ms', () => {
    it.each([
      ['5s', 5000],
      ['200ms', 200],
      ['10s', 10_000],
      ['1m', 60_000],
      ['2h', 7_200_000],
      ['1d', 86_400_000],
      ['1.5s', 1500],
      ['100', 100],
      ['  5s  ', 5000],
      ['5 seconds', 5000],
    ])('%p => %p', (value, millis) => {
      expect(parseDuration(value, 'opt')).toBe(millis);
    });
  });

  describe('Infinity', () => {
    it.each([
      ['the number Infinity', Number.POSITIVE_INFINITY],
      ["the string 'Infinity'", 'Infinity'],
      ["'infinity' in any case", 'iNfInItY'],
      ["'+Infinity'", '+Infinity'],
      ["' Infinity ' with spaces", ' Infinity '],
    ])('is accepted with allowInfinity: %s', (_name, value) => {
      expect(parseDuration(value, 'opt', { allowInfinity: true })).toBe(Number.POSITIVE_INFINITY);
    });

    it.each([
      ['the number Infinity', Number.POSITIVE_INFINITY],
      ["the string 'Infinity'", 'Infinity'],
    ])('is rejected by default: %s', (_name, value) => {
      const err = configErrorOf(() => parseDuration(value, 'timeTickInterval'));
      expect(err.option).toBe('timeTickInterval');
      expect(err.message).toContain('must be finite');
    });

    it('-Infinity is always rejected', () => {
      const err = configErrorOf(() =>
        parseDuration(Number.NEGATIVE_INFINITY, 'opt', {
          allowInfinity: true,
          allowNegative: true,
        }),
      );
      expect(err.message).toContain('must be finite');
      expect(
        configErrorOf(() =>
          parseDuration('-Infinity', 'opt', { allowInfinity: true, allowNegative: true }),
        ).value,
      ).toBe('-Infinity');
    });
  });

  describe('negative durations', () => {
    it.each([
      ['-1', -1],
      ["'-5s'", '-5s'],
    ])('%s is rejected by default', (_name, value) => {
      const err = configErrorOf(() => parseDuration(value, 'backoff.max'));
      expect(err.option).toBe('backoff.max');
      expect(err.message).toContain('must not be negative');
    });

    it('are accepted with allowNegative', () => {
      expect(parseDuration(-1, 'opt', { allowNegative: true })).toBe(-1);
      expect(parseDuration('-5s', 'opt', { allowNegative: true })).toBe(-5000);
    });

    it('-0 is not negative', () => {
      expect(parseDuration(-0, 'opt')).toBe(-0);
    });
  });

  it('rejects NaN', () => {
    const err = configErrorOf(() =>
      parseDuration(Number.NaN, 'opt', { allowInfinity: true, allowNegative: true }),
    );
    expect(err.value).toBeNaN();
    expect(err.message).toContain('is not a number');
  });

  it.each([
    ['garbage', 'soon'],
    ["'5 parsecs'", '5 parsecs'],
    ['an empty string', ''],
    ['only spaces', '   '],
    ["'NaN'", 'NaN'],
    ["'5s5'", '5s5'],
  ])('rejects the unparsable string %s', (_name, value) => {
    const err = configErrorOf(() =>
      parseDuration(value, 'opt', { allowInfinity: true, allowNegative: true }),
    );
    expect(err.value).toBe(value);
    expect(err.message).toContain('is not a duration');
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['a bigint', 5n],
    ['an object', { ms: 5 }],
  ])('rejects %s (neither number nor string)', (_name, value) => {
    const err = configErrorOf(() => parseDuration(value, 'opt'));
    expect(err.value).toBe(value);
    expect(err.message).toContain('must be a number of milliseconds or a duration string');
  });

  it('names the option and the value in the error', () => {
    const err = configErrorOf(() => parseDuration('5 parsecs', 'writeAheadBuffer.keepalive'));
    expect(err.option).toBe('writeAheadBuffer.keepalive');
    expect(err.value).toBe('5 parsecs');
    expect(err.code).toBe('CONFIG');
    expect(err.message).toBe(
      'invalid writeAheadBuffer.keepalive: is not a duration (use milliseconds or a string like \'5s\') (got "5 parsecs")',
    );
  });
});
