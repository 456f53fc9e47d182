/**
 * CPU time of process trees from Linux's /proc, to tell where a phase's time went: a throughput
 * whose processes together used both cores was CPU-bound, and the biggest share names the
 * bottleneck. A tree's time is its live processes' own time plus what their exited children used
 * (cutime, cstime: PostgreSQL's postmaster reaps every backend that ends), so the difference of
 * two readings counts processes that came and went in between.
 */
import { readFileSync } from 'node:fs';
import { processTree } from './proc-memory';
import { round } from './stats';

const TICKS_PER_S = 100;

function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name in parentheses: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  } catch {
    return 0; // gone meanwhile
  }
}

/** CPU seconds each named tree has used so far. */
export function cpuSeconds(roots: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(roots)) {
    if (pid === undefined) continue;
    const tree = name === 'bench' ? [pid] : processTree(pid);
    out[name] = tree.reduce((sum, p) => sum + ticksOf(p), 0) / TICKS_PER_S;
  }
  return out;
}

/** Starts counting; `stop` returns each tree's CPU seconds since, and the share of the machine's cores they used together. */
export function cpuMeter(roots: Record<string, number | undefined>) {
  const before = cpuSeconds(roots);
  const started = Date.now();
  return {
    stop(): { cpu_s: Record<string, number>; cores_busy: number } {
      const after = cpuSeconds(roots);
      const wall = (Date.now() - started) / 1000;
      const cpu = Object.fromEntries(Object.keys(after).map((k) => [k, round(after[k] - (before[k] ?? 0), 1)]));
      const total = Object.values(cpu).reduce((a, b) => a + b, 0);
      return { cpu_s: cpu, cores_busy: round(total / Math.max(0.001, wall), 2) };
    },
  };
}
