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
