/** Latency summaries. */

export interface LatencySummary {
  p50: number;
  p99: number;
  samples: number;
}

/**
 * Nearest-rank percentile: an observed value, never an interpolation. With fewer than 100 samples
 * p99 is simply the slowest one, which is the honest reading of so few.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), 1), p99: round(percentile(sorted, 99), 1), samples: sorted.length };
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export interface DecileRates {
  /** Completions per second within each tenth of the completions, in order. */
  perS: number[];
  /** The last tenth's rate over the first tenth's: 1 when the cost per item does not grow. */
  lastVsFirst: number;
  /**
   * The same ratio read off a least-squares line through all ten rates: one tenth's rate varies by
   * ±15 % from the next on a busy machine, the trend through ten much less.
   */
  trendLastVsFirst: number;
}

/**
 * Rates per tenth of the items by completion time. Each tenth's rate is measured between its own
 * first and last completion, so the first tenth does not carry the time before anything completed
 * (the request, the first batch starting) and the ratio shows how the cost per item changes as
 * the work goes on. Needs at least 20 items.
 */
export function decileRates(completedAtMs: readonly number[]): DecileRates | undefined {
  const sorted = [...completedAtMs].sort((a, b) => a - b);
  if (sorted.length < 20) return undefined;
  const perS: number[] = [];
  for (let d = 0; d < 10; d++) {
    const from = Math.floor((d * sorted.length) / 10);
    const to = Math.floor(((d + 1) * sorted.length) / 10) - 1;
    const seconds = Math.max(0.001, (sorted[to] - sorted[from]) / 1000);
    perS.push(round((to - from) / seconds, 1));
  }
  const meanX = 4.5;
  const meanY = perS.reduce((a, b) => a + b, 0) / 10;
  const slope = perS.reduce((sum, y, x) => sum + (x - meanX) * (y - meanY), 0) / perS.reduce((sum, _y, x) => sum + (x - meanX) ** 2, 0);
  const fitted = (x: number) => meanY + slope * (x - meanX);
  return { perS, lastVsFirst: round(perS[9] / perS[0], 3), trendLastVsFirst: round(fitted(9) / fitted(0), 3) };
}
