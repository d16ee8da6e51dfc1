import fc from 'fast-check';

import {
  addPhysicalMs,
  isTimeTick,
  LOGICAL_BITS,
  MAX_LOGICAL,
  MAX_TIME_TICK,
  toTimeTick,
  tso,
} from '../../lib/message/tso.js';
import { configErrorOf } from '../support/errors.js';

const TWO_64 = 1n << 64n;
const MAX_PHYSICAL = 2 ** 46 - 1; // (2^64 - 1) >> 18

describe('tso layout', () => {
  it('has 18 logical bits (mask 2^18 - 1 = 262143)', () => {
    expect(LOGICAL_BITS).toBe(18n);
    expect(MAX_LOGICAL).toBe(262_143);
    expect(MAX_TIME_TICK).toBe(TWO_64 - 1n);
  });
});

describe('tso.compose / physical / logical', () => {
  it('§1.4 example: physical 1735000000000 ms, logical 7 => 454819840000000007n', () => {
    const tt = tso.compose(1_735_000_000_000, 7);
    expect(tt).toBe(454_819_840_000_000_007n);
    expect(tso.physical(tt)).toBe(1_735_000_000_000);
    expect(tso.logical(tt)).toBe(7);
  });

  it('is physical * 2^18 + logical', () => {
    expect(tso.compose(1, 0)).toBe(262_144n);
    expect(tso.compose(1, 1)).toBe(262_145n);
    expect(tso.compose(0, 262_143)).toBe(262_143n);
    expect(tso.compose(3, 5)).toBe(3n * 262_144n + 5n);
  });

  it('defaults the logical part to 0', () => {
    expect(tso.compose(1_735_000_000_000)).toBe(454_819_840_000_000_000n);
    expect(tso.logical(tso.compose(42))).toBe(0);
  });

  it('splits tiny ticks with no physical meaning (upstream tests use 1, 2, 10, 25)', () => {
    expect(tso.physical(25n)).toBe(0);
    expect(tso.logical(25n)).toBe(25);
    expect(tso.physical(0n)).toBe(0);
    expect(tso.logical(0n)).toBe(0);
  });

  it('is exact at 2^64 - 1: compose(2^46 - 1, 2^18 - 1)', () => {
    const tt = tso.compose(MAX_PHYSICAL, MAX_LOGICAL);
    expect(tt).toBe(TWO_64 - 1n);
    expect(tso.physical(TWO_64 - 1n)).toBe(MAX_PHYSICAL);
    expect(tso.logical(TWO_64 - 1n)).toBe(262_143);
  });

  it('is exact just below 2^64, where numbers would lose the low bits', () => {
    const tt = TWO_64 - 2n; // physical 2^46 - 1, logical 2^18 - 2
    expect(tso.physical(tt)).toBe(MAX_PHYSICAL);
    expect(tso.logical(tt)).toBe(262_142);
    expect(tso.compose(MAX_PHYSICAL, 262_142)).toBe(tt);
    expect(tso.compose(MAX_PHYSICAL, 0)).toBe(TWO_64 - 262_144n);
  });

  it('round-trips every (physical, logical) pair in range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_PHYSICAL }),
        fc.integer({ min: 0, max: MAX_LOGICAL }),
        (physical, logical) => {
          const tt = tso.compose(physical, logical);
          expect(tt).toBe(BigInt(physical) * 262_144n + BigInt(logical));
          expect(tso.physical(tt)).toBe(physical);
          expect(tso.logical(tt)).toBe(logical);
        },
      ),
    );
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['above 2^46 - 1 (would not fit 64 bits)', MAX_PHYSICAL + 1],
    ['above 2^53 - 1', 2 ** 53],
  ])('compose rejects a %s physical part with ConfigError', (_name, physical) => {
    const err = configErrorOf(() => tso.compose(physical, 0));
    expect(err.option).toBe('physicalMs');
    expect(err.value).toBe(physical);
    expect(err.message).toContain(`(got ${String(physical)})`);
  });

  it.each([
    ['negative', -1],
    ['fractional', 0.5],
    ['NaN', Number.NaN],
    ['2^18 (would carry into the physical part)', 262_144],
  ])('compose rejects a %s logical part with ConfigError', (_name, logical) => {
    const err = configErrorOf(() => tso.compose(1, logical));
    expect(err.option).toBe('logical');
    expect(err.value).toBe(logical);
    expect(err.message).toContain(`(got ${String(logical)})`);
  });

  it.each([
    ['negative', -1n],
    ['2^64', TWO_64],
  ])('physical and logical reject a %s tick with ConfigError', (_name, tt) => {
    expect(configErrorOf(() => tso.physical(tt)).option).toBe('tt');
    expect(configErrorOf(() => tso.logical(tt)).option).toBe('tt');
  });
});

describe('tso.addDuration', () => {
  const example = tso.compose(1_735_000_000_000, 7);

  it('§1.4 example: adding 1000 ms gives 454819840262144007n (logical still 7)', () => {
    const moved = tso.addDuration(example, 1000);
    expect(moved).toBe(454_819_840_262_144_007n);
    expect(moved - example).toBe(262_144_000n);
    expect(tso.physical(moved)).toBe(1_735_000_001_000);
    expect(tso.logical(moved)).toBe(7);
  });

  it("accepts ms strings: '1s' equals 1000, '200ms' moves 200 ms", () => {
    expect(tso.addDuration(example, '1s')).toBe(454_819_840_262_144_007n);
    const moved = tso.addDuration(example, '200ms');
    expect(moved).toBe(example + 200n * 262_144n);
    expect(tso.physical(moved)).toBe(1_735_000_000_200);
    expect(tso.logical(moved)).toBe(7);
  });

  it('allows negative durations (numbers and strings)', () => {
    expect(tso.addDuration(454_819_840_262_144_007n, -1000)).toBe(example);
    expect(tso.addDuration(454_819_840_262_144_007n, '-1s')).toBe(example);
    expect(tso.physical(tso.addDuration(example, -1))).toBe(1_734_999_999_999);
  });

  it('drops sub-millisecond parts (truncation towards zero)', () => {
    expect(tso.addDuration(example, 1.9)).toBe(example + 262_144n);
    expect(tso.addDuration(example, '1.5ms')).toBe(example + 262_144n);
    expect(tso.addDuration(example, 0.5)).toBe(example);
    expect(tso.addDuration(example, -1.9)).toBe(example - 262_144n);
    expect(tso.addDuration(example, -0.5)).toBe(example);
  });

  it('keeps the logical part even at its maximum', () => {
    const tt = tso.compose(10, MAX_LOGICAL);
    const moved = tso.addDuration(tt, 5);
    expect(tso.physical(moved)).toBe(15);
    expect(tso.logical(moved)).toBe(MAX_LOGICAL);
  });

  it('is exact up to 2^64 - 1', () => {
    const below = tso.compose(MAX_PHYSICAL - 1, MAX_LOGICAL);
    expect(tso.addDuration(below, 1)).toBe(TWO_64 - 1n);
    expect(tso.addDuration(TWO_64 - 1n, -1)).toBe(below);
    expect(tso.addDuration(TWO_64 - 1n, 0)).toBe(TWO_64 - 1n);
  });

  it.each([
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['NaN', Number.NaN],
    ["the string 'Infinity'", 'Infinity'],
    ["the unparsable string 'soon'", 'soon'],
    ["the unparsable string '5 parsecs'", '5 parsecs'],
    ['an empty string', ''],
  ])('rejects %s with ConfigError naming the duration', (_name, d) => {
    const err = configErrorOf(() => tso.addDuration(example, d));
    expect(err.option).toBe('duration');
    expect(err.value).toBe(d);
  });

  it('rejects a result below 0 with ConfigError', () => {
    const err = configErrorOf(() => tso.addDuration(5n, -1));
    expect(err.option).toBe('duration');
    expect(err.value).toBe(-1);
    expect(err.message).toContain('moves time tick 5 outside [0, 2^64)');
  });

  it('rejects a result of 2^64 or more with ConfigError', () => {
    const err = configErrorOf(() => tso.addDuration(TWO_64 - 1n, '1ms'));
    expect(err.option).toBe('duration');
    expect(err.value).toBe('1ms');
    expect(configErrorOf(() => tso.addDuration(0n, 1e300)).option).toBe('duration');
  });

  it('rejects a bad base tick with ConfigError naming tt', () => {
    expect(configErrorOf(() => tso.addDuration(-1n, 1)).option).toBe('tt');
    expect(configErrorOf(() => tso.addDuration(TWO_64, -1)).option).toBe('tt');
  });
});

describe('isTimeTick', () => {
  it('accepts bigints in [0, 2^64) only', () => {
    expect(isTimeTick(0n)).toBe(true);
    expect(isTimeTick(TWO_64 - 1n)).toBe(true);
    expect(isTimeTick(TWO_64)).toBe(false);
    expect(isTimeTick(-1n)).toBe(false);
    expect(isTimeTick(5)).toBe(false);
    expect(isTimeTick('5')).toBe(false);
  });
});

describe('toTimeTick', () => {
  it('normalises safe non-negative integers and bigints', () => {
    expect(toTimeTick(0, 'opt')).toBe(0n);
    expect(toTimeTick(Number.MAX_SAFE_INTEGER, 'opt')).toBe(9_007_199_254_740_991n);
    expect(toTimeTick(TWO_64 - 1n, 'opt')).toBe(TWO_64 - 1n);
  });

  it.each([
    ['negative number', -1, 'must be a non-negative integer time tick'],
    ['fractional number', 1.5, 'must be a non-negative integer time tick'],
    ['number above 2^53 - 1', 2 ** 53, 'is above 2^53 - 1: pass a bigint'],
    ['negative bigint', -1n, 'must not be negative'],
    ['bigint 2^64', TWO_64, 'must be below 2^64'],
    ['string', '5', 'must be a bigint time tick'],
    ['undefined', undefined, 'must be a bigint time tick'],
  ])('rejects a %s with ConfigError naming the option', (_name, value, reason) => {
    const err = configErrorOf(() => toTimeTick(value, 'myOption'));
    expect(err.option).toBe('myOption');
    expect(err.value).toBe(value);
    expect(err.message).toContain(reason);
  });
});

describe('addPhysicalMs', () => {
  it('moves the physical part without range checks (deadlines may pass 2^64)', () => {
    expect(addPhysicalMs(tso.compose(1_735_000_000_000, 7), 1000)).toBe(454_819_840_262_144_007n);
    expect(addPhysicalMs(TWO_64 - 1n, 1)).toBe(TWO_64 - 1n + 262_144n);
    expect(addPhysicalMs(0n, -1)).toBe(-262_144n);
  });
});
