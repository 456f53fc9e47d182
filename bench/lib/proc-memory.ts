/**
 * Memory of a process tree from Linux's /proc. The worker is started through tsx, whose CLI runs
 * the real Node worker as its own child, so the process we spawn is not the one that matters: the
 * tree is walked (parent pids from /proc/<pid>/stat) to find it.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcessMemory {
  pid: number;
  cmdline: string;
  /** Resident set size now, in kB. */
  rssKb: number;
  /** Peak resident set size ("high water mark") as the kernel recorded it, in kB. */
  hwmKb: number;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // The process exited between listing and reading: it is simply gone.
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may itself contain spaces or parentheses,
  // so fields are counted after the last ')': state, then the parent pid.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(rest[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** The root and every live process below it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export function processMemory(pid: number): ProcessMemory | undefined {
  const status = readOrUndefined(`/proc/${pid}/status`);
  if (!status) return undefined;
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  const cmdline = (readOrUndefined(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
  return { pid, cmdline, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/**
 * Samples the tree's RSS periodically (a cross-check, and a fallback where VmHWM is missing) and
 * reports the process running a given script.
 */
export class TreeMemorySampler {
  private readonly sampledPeakKb = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly root: number,
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    // Sampling must never be what keeps the benchmark alive.
    this.timer.unref();
    this.sample();
  }

  sample(): ProcessMemory[] {
    const seen: ProcessMemory[] = [];
    for (const pid of processTree(this.root)) {
      const memory = processMemory(pid);
      if (!memory) continue;
      seen.push(memory);
      this.sampledPeakKb.set(pid, Math.max(this.sampledPeakKb.get(pid) ?? 0, memory.rssKb));
    }
    return seen;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes a sample now; returns the process running `script` (see pick). */
  current(script: string): ProcessMemory {
    return pick(this.sample(), script, this.root);
  }

  /** Takes a last sample; returns the worker process and every process of the tree. */
  finish(script: string): { worker: ProcessMemory & { sampledPeakKb: number }; tree: Array<ProcessMemory & { sampledPeakKb: number }> } {
    this.stop();
    const tree = this.sample().map((m) => ({ ...m, sampledPeakKb: this.sampledPeakKb.get(m.pid) ?? m.rssKb }));
    return { worker: pick(tree, script, this.root), tree };
  }
}

/** The deepest process whose command line names the script without being the tsx launcher. */
function pick<T extends ProcessMemory>(tree: T[], script: string, root: number): T {
  if (tree.length === 0) throw new Error(`process ${root} is gone: cannot read the worker's memory`);
  const running = tree.filter((m) => m.cmdline.includes(script) && !m.cmdline.includes('tsx/dist/cli'));
  // Without a match (another tsx layout), the biggest process of the tree is the worker.
  return running.at(-1) ?? [...tree].sort((a, b) => b.hwmKb - a.hwmKb)[0];
}
