/**
 * Just enough process supervision for local service binaries: spawn with output captured, wait
 * until the service is usable, stop gracefully, and never leave one running after we are gone.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface SpawnOptions {
  /** Short name used in errors, e.g. "temporal". */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (e.g. PostgreSQL's own user when we are root). */
  uid?: number;
  gid?: number;
  /** Append stdout and stderr to this file (created with its directory if missing). */
  logFile?: string;
  /** Share the parent's stdout/stderr instead; takes precedence over logFile. */
  inheritOutput?: boolean;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  error?: Error;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** Resolves (never rejects) once the process has exited, whatever the reason. */
  readonly exited: Promise<ExitStatus>;
  /** undefined while the process runs. */
  readonly exitStatus: ExitStatus | undefined;
  /** The end of this run's output, or '' when it went to the parent's terminal. */
  logTail(maxBytes?: number): string;
  /**
   * SIGTERM, then SIGKILL after graceMs (default 10 s); resolves once exited. Safe to call
   * repeatedly. Signals the child only: the services run here do not fork helpers of their own.
   */
  stop(graceMs?: number): Promise<void>;
}

export class ProcessExitedError extends Error {
  constructor(
    readonly processName: string,
    readonly status: ExitStatus,
    tail: string,
  ) {
    super(`${processName} exited (${describeExit(status)}) before it was ready${formatTail(tail)}`);
    this.name = 'ProcessExitedError';
  }
}

export class ReadinessTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, lastError: unknown, tail: string) {
    const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
    super(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${formatTail(tail)}`);
    this.name = 'ReadinessTimeoutError';
  }
}

function describeExit(status: ExitStatus): string {
  if (status.error) return `could not start: ${status.error.message}`;
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}

function formatTail(tail: string): string {
  return tail.trim() ? `\n--- last output ---\n${tail.trimEnd()}` : '';
}

// Children are killed from the parent's 'exit' event, which covers normal exits, process.exit()
// and uncaught exceptions. process.kill is synchronous, so it is allowed there.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  child.on('error', () => {
    if (child.pid === undefined) liveChildren.delete(child);
  });
}

let ownProcessGroups = false;

/**
 * From now on children get process groups of their own, so a Ctrl-C in the terminal reaches this
 * process alone and it can stop them in order (the node supervisor: the API and the worker drain
 * before PostgreSQL stops). They still die with us: see parentDeathWrapper and the exit hook.
 */
export function spawnInOwnProcessGroups(): void {
  ownProcessGroups = true;
}

let deathSignalWrapper: string | null | undefined;

/**
 * A parent killed by SIGKILL (e.g. a test runner timing out) runs no 'exit' handler and its
 * children would keep their ports. On Linux, util-linux's setpriv can ask the kernel to SIGKILL
 * the child when its parent dies (PR_SET_PDEATHSIG survives the exec). Elsewhere we rely on the
 * exit hook and on the terminal's signals reaching the whole (shared) process group.
 */
function parentDeathWrapper(): string | null {
  if (deathSignalWrapper !== undefined) return deathSignalWrapper;
  deathSignalWrapper = null;
  if (process.platform !== 'linux') return null;
  for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
    const probe = spawnSync(candidate, ['--help'], { encoding: 'utf8' });
    if (probe.status === 0 && probe.stdout.includes('--pdeathsig')) {
      deathSignalWrapper = candidate;
      break;
    }
  }
  return deathSignalWrapper;
}

const MEMORY_TAIL_BYTES = 64 * 1024;

export function spawnProcess(options: SpawnOptions): ManagedProcess {
  const { name, command, args } = options;
  let stdio: StdioOptions;
  let logFd: number | undefined;
  let logStart = 0;
  let memoryTail = '';

  if (options.inheritOutput) {
    stdio = ['ignore', 'inherit', 'inherit'];
  } else if (options.logFile) {
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    logFd = openSync(options.logFile, 'a');
    writeSync(logFd, `\n--- ${new Date().toISOString()} starting ${name}: ${command} ${args.join(' ')}\n`);
    // The tail of an error should show this run only, not an earlier one appended before it.
    logStart = fstatSync(logFd).size;
    // The child writes to the file itself, so its output survives even if we die first.
    stdio = ['ignore', logFd, logFd];
  } else {
    stdio = ['ignore', 'pipe', 'pipe'];
  }

  const wrapper = parentDeathWrapper();
  // By default the child stays in our process group, so Ctrl-C in a terminal reaches it too.
  // The user switch happens before the wrapper runs, so the death signal it sets survives it.
  const spawnOptions = { cwd: options.cwd, env: options.env, stdio, uid: options.uid, gid: options.gid, detached: ownProcessGroups };
  const child = wrapper
    ? spawn(wrapper, ['--pdeathsig', 'KILL', '--', command, ...args], spawnOptions)
    : spawn(command, [...args], spawnOptions);
  if (logFd !== undefined) closeSync(logFd);
  track(child);

  const keepTail = (chunk: Buffer) => {
    memoryTail = (memoryTail + chunk.toString('utf8')).slice(-MEMORY_TAIL_BYTES);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);

  let exitStatus: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    const finish = (status: ExitStatus) => {
      exitStatus ??= status;
      resolve(exitStatus);
    };
    child.on('error', (error) => {
      // 'error' also reports failed kill() calls on a running child; only a failed spawn ends it.
      if (child.pid === undefined) finish({ code: null, signal: null, error });
    });
    child.once('exit', (code, signal) => {
      const status = { code, signal };
      // 'close' comes once the output pipes are drained, so the tail is complete; a grandchild
      // holding the pipes open must not delay us forever, though.
      const fallback = setTimeout(() => finish(status), 1000);
      child.once('close', () => {
        clearTimeout(fallback);
        finish(status);
      });
    });
  });

  const logTail = (maxBytes = 8 * 1024): string => {
    if (options.inheritOutput) return '';
    if (!options.logFile) return dropPartialFirstLine(memoryTail.slice(-maxBytes), memoryTail.length > maxBytes);
    return readFileTail(options.logFile, logStart, maxBytes);
  };

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      if (exitStatus === undefined && child.pid !== undefined) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(force);
      }
      await exited;
    })();
    return stopping;
  };

  return {
    name,
    pid: child.pid,
    exited,
    get exitStatus() {
      return exitStatus;
    },
    logTail,
    stop,
  };
}

function dropPartialFirstLine(text: string, truncated: boolean): string {
  if (!truncated) return text;
  const newline = text.indexOf('\n');
  return newline === -1 ? text : text.slice(newline + 1);
}

function readFileTail(file: string, from: number, maxBytes: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - maxBytes);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buffer, 0, buffer.length, start);
    return dropPartialFirstLine(buffer.toString('utf8'), start > from);
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface WaitOptions {
  /** What we wait for, in errors: "temporal to serve the default namespace". */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Fail as soon as this process exits instead of waiting for the timeout. */
  process?: ManagedProcess;
}

/**
 * Calls probe until it resolves; its result is returned. Each probe must bound its own duration,
 * but a probe still pending when the process exits is abandoned.
 */
export async function waitUntil<T>(probe: () => Promise<T>, options: WaitOptions): Promise<T> {
  const { what, timeoutMs, intervalMs = 100, process: proc } = options;
  const deadline = Date.now() + timeoutMs;
  const exitedFailure = proc?.exited.then((status) => {
    throw new ProcessExitedError(proc.name, status, proc.logTail());
  });
  // Nobody may be racing against it when the process exits after we are done.
  exitedFailure?.catch(() => undefined);

  let lastError: unknown;
  for (;;) {
    const attempt = probe();
    attempt.catch(() => undefined);
    try {
      return await (exitedFailure ? Promise.race([attempt, exitedFailure]) : attempt);
    } catch (error) {
      if (error instanceof ProcessExitedError) throw error;
      lastError = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new ReadinessTimeoutError(what, timeoutMs, lastError, proc?.logTail() ?? '');
    const pause = delay(Math.min(intervalMs, remaining));
    await (exitedFailure ? Promise.race([pause, exitedFailure]) : pause);
  }
}

/** Resolves once host:port accepts a TCP connection. */
export function waitForPort(
  host: string,
  port: number,
  options: Omit<WaitOptions, 'what'> & { what?: string },
): Promise<void> {
  return waitUntil(() => canConnect(host, port, 1000), {
    ...options,
    what: options.what ?? `${host}:${port} to accept connections`,
  });
}

function canConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`connecting to ${host}:${port} timed out`));
    });
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
