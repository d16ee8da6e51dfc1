/**
 * Index of the first entry of the ascending `values` that is ≥ `from` (`values.length` if none),
 * searching from index `lo` on (every entry before it must be below `from`).
 */
export function lowerBound(values: readonly number[], from: number, lo = 0): number {
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
