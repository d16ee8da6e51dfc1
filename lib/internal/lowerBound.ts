/** Index of the first entry of the ascending `values` that is ≥ `from` (`values.length` if none). */
export function lowerBound(values: readonly number[], from: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
