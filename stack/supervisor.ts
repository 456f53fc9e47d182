/**
 * Keeps a node's services running: starts them in order, and when one exits without being asked
 * to, starts it again after a growing pause (1 s, 2 s, 4 s … 30 s; back to 1 s once it has run a
 * minute). What each service is doing is written to a status file that /readyz reports.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ExitStatus, ManagedProcess } from './processes';

export type ServiceState = 'starting' | 'running' | 'restarting' | 'stopped';

export interface RunningService {
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface ServiceSpec {
  /** Short id: postgres, temporal, temporal-ui, ferretdb, smtp, worker, api. */
  name: string;
  /** How people read it in the log: «PostgreSQL», «обработчик задач (worker)». */
  label: string;
  /** Starts the service and resolves once it is usable; throws if it could not start. */
  start(): Promise<RunningService>;
}

export interface ServiceStatus {
  name: string;
  label: string;
  state: ServiceState;
  pid?: number;
  /** Restarts after unexpected exits since the node started. */
  restarts: number;
  /** When the current state began (ISO). */
  since: string;
  lastExit?: { at: string; code: number | null; signal: string | null };
  lastError?: string;
}

export interface SupervisorStatus {
  pid: number;
  startedAt: string;
  updatedAt: string;
  services: ServiceStatus[];
}

export interface SupervisorOptions {
  /** Written atomically on every change; read by the API's /readyz. */
  statusFile: string;
  /** One line per event, in Russian. */
  log(line: string): void;
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
}

interface Entry {
  spec: ServiceSpec;
  status: ServiceStatus;
  running?: RunningService;
  /** A start under way, which stopAll waits for. */
  launching?: Promise<void>;
  startedAt?: number;
  failures: number;
  timer?: NodeJS.Timeout;
}

export function describeExit(exit: ExitStatus): string {
  if (exit.error) return `не запустилась: ${exit.error.message}`;
  return exit.signal ? `сигнал ${exit.signal}` : `код ${exit.code}`;
}

export class Supervisor {
  private readonly entries: Entry[] = [];
  private readonly startedAt = new Date().toISOString();
  private stopping = false;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resetAfterMs: number;

  constructor(private readonly options: SupervisorOptions) {
    this.initialMs = options.backoff?.initialMs ?? 1_000;
    this.maxMs = options.backoff?.maxMs ?? 30_000;
    this.resetAfterMs = options.backoff?.resetAfterMs ?? 60_000;
    mkdirSync(path.dirname(options.statusFile), { recursive: true });
  }

  /**
   * Starts a service and watches it from then on. A first start that fails is tried again a few
   * times (a service underneath may still be settling, as a Temporal cluster does for seconds
   * after it answers); throws once they are used up.
   */
  async add(spec: ServiceSpec, attempts = 5): Promise<void> {
    const entry: Entry = { spec, failures: 0, status: { name: spec.name, label: spec.label, state: 'starting', restarts: 0, since: now() } };
    this.entries.push(entry);
    this.write();
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new Error(`${spec.name}: not started, the node is stopping`);
      try {
        await this.launch(entry);
        return;
      } catch (error) {
        const message = firstLine(error);
        this.set(entry, { lastError: message });
        if (attempt >= attempts || this.stopping) throw error;
        const pause = Math.min(this.maxMs, this.initialMs * 2 ** (attempt - 1));
        this.options.log(`Служба «${spec.label}» не запустилась (${message}); попытка ${attempt + 1} из ${attempts} через ${formatSeconds(pause)}.`);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  status(): SupervisorStatus {
    return { pid: process.pid, startedAt: this.startedAt, updatedAt: now(), services: this.entries.map((e) => ({ ...e.status })) };
  }

  /** Stops every service, the last started first; none is restarted from then on. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const entry of [...this.entries].reverse()) {
      clearTimeout(entry.timer);
      // A start under way finishes (and stops what it started) before the next service goes.
      await entry.launching?.catch(() => undefined);
      await entry.running?.stop().catch((error: unknown) => this.options.log(`${entry.spec.label}: ошибка при остановке: ${String(error)}`));
      this.set(entry, { state: 'stopped', pid: undefined });
    }
  }

  private launch(entry: Entry): Promise<void> {
    const launching = this.startOnce(entry);
    entry.launching = launching;
    return launching.finally(() => {
      if (entry.launching === launching) entry.launching = undefined;
    });
  }

  private async startOnce(entry: Entry): Promise<void> {
    this.set(entry, { state: entry.status.restarts > 0 ? 'restarting' : 'starting', pid: undefined });
    const running = await entry.spec.start();
    if (this.stopping) {
      await running.stop();
      return;
    }
    entry.running = running;
    entry.startedAt = Date.now();
    this.set(entry, { state: 'running', pid: running.process.pid, lastError: undefined });
    void running.process.exited.then((exit) => this.onExit(entry, running, exit));
  }

  private onExit(entry: Entry, running: RunningService, exit: ExitStatus): void {
    if (this.stopping || entry.running !== running) return;
    entry.running = undefined;
    const ranFor = Date.now() - (entry.startedAt ?? Date.now());
    if (ranFor >= this.resetAfterMs) entry.failures = 0;
    this.set(entry, { state: 'restarting', pid: undefined, lastExit: { at: now(), code: exit.code, signal: exit.signal } });
    this.scheduleRestart(entry, `завершилась неожиданно (${describeExit(exit)})`);
  }

  private scheduleRestart(entry: Entry, why: string): void {
    if (this.stopping) return;
    const pause = Math.min(this.maxMs, this.initialMs * 2 ** entry.failures);
    entry.failures += 1;
    this.options.log(`Служба «${entry.spec.label}» ${why}; перезапуск через ${formatSeconds(pause)}.`);
    entry.timer = setTimeout(() => {
      if (this.stopping) return;
      entry.status.restarts += 1;
      this.launch(entry).then(
        () => this.options.log(`Служба «${entry.spec.label}» снова работает (перезапусков: ${entry.status.restarts}).`),
        (error: unknown) => {
          if (this.stopping) return;
          const message = firstLine(error);
          this.set(entry, { state: 'restarting', lastError: message });
          this.scheduleRestart(entry, `не запустилась: ${message}`);
        },
      );
    }, pause);
  }

  private set(entry: Entry, change: Partial<ServiceStatus>): void {
    const stateChanged = change.state !== undefined && change.state !== entry.status.state;
    Object.assign(entry.status, change);
    if (stateChanged) entry.status.since = now();
    this.write();
  }

  private write(): void {
    const file = this.options.statusFile;
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify(this.status(), null, 2));
      renameSync(temporary, file);
    } catch (error) {
      this.options.log(`Не удалось записать состояние служб в ${file}: ${String(error)}`);
    }
  }
}

function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

function now(): string {
  return new Date().toISOString();
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} с`;
}
