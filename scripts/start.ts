/**
 * `npm start`: a whole Kontrol node in the foreground, supervised. PostgreSQL, the Temporal server
 * and its Web UI, FerretDB on PostgreSQL and a mail catcher (each only when its
 * *_ADDRESS/URI/URL is not set), then the worker and the API, each a process of its own and
 * restarted when it dies. Ctrl-C stops everything in reverse order.
 */
import path from 'node:path';
import { loadConfig, ConfigError } from '../config';
import { DEMO_USERS } from '../seed/demo';
import { checkDataDir, DataDirError, DEFAULT_NODE_PORTS, startNode, statusFileOf, type KontrolNode, type NodePorts } from '../stack/node';
import { spawnInOwnProcessGroups } from '../stack/processes';
import { Supervisor } from '../stack/supervisor';

const DEMO_DEFAULTS = {
  ADMIN_EMAIL: 'admin@demo.kontrol.test',
  ADMIN_PASSWORD: 'kontrol-admin',
  DEMO_DATA: 'true',
};

function log(line: string): void {
  console.log(`${new Date().toLocaleTimeString('ru-RU')} ${line}`);
}

function portsFrom(env: NodeJS.ProcessEnv): NodePorts {
  const port = (name: string, fallback: number) => {
    const value = env[name];
    if (!value) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(`Invalid configuration:\n  ${name}: must be a port number (1-65535)`);
    return n;
  };
  return {
    ...DEFAULT_NODE_PORTS,
    postgres: port('POSTGRES_PORT', DEFAULT_NODE_PORTS.postgres),
    temporal: { ...DEFAULT_NODE_PORTS.temporal, frontend: port('TEMPORAL_PORT', DEFAULT_NODE_PORTS.temporal.frontend) },
    temporalUi: port('TEMPORAL_UI_PORT', DEFAULT_NODE_PORTS.temporalUi),
    ferretdb: port('FERRETDB_PORT', DEFAULT_NODE_PORTS.ferretdb),
    smtp: port('SMTP_PORT', DEFAULT_NODE_PORTS.smtp),
    mailUi: port('MAIL_UI_PORT', DEFAULT_NODE_PORTS.mailUi),
    api: port('PORT', DEFAULT_NODE_PORTS.api),
  };
}

let supervisor: Supervisor | undefined;
let stopping = false;

/** Stops every service in reverse order, also while the node is still starting. */
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('Останавливаю Kontrol…');
  await supervisor?.stopAll().catch((e: unknown) => console.error('stop failed:', e));
  process.exit(code);
}

async function main() {
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  // Empty values mean unset here too (as in config), so they do not switch the defaults off.
  const given = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
  // Demo logins with known passwords only where nobody said this is production.
  const production = given.NODE_ENV === 'production';
  const env: NodeJS.ProcessEnv = { ...(production ? {} : DEMO_DEFAULTS), ...given };
  // Validates everything up front, with the variable's name, before any service starts.
  const config = loadConfig(env);
  const ports = portsFrom(env);

  log(`Запускаю Kontrol (данные: ${config.dataDir})…`);
  // Ctrl-C reaches this process alone, which stops the services in order.
  spawnInOwnProcessGroups();
  checkDataDir(config.dataDir);
  supervisor = new Supervisor({ statusFile: statusFileOf(config.dataDir), log });
  const node: KontrolNode = await startNode({ dataDir: config.dataDir, ports, env, log, supervisor });

  // The API is up; ready means it also reaches MongoDB, Temporal and a polling worker.
  let ready = false;
  for (let i = 0; i < 120 && !ready; i++) {
    ready = await fetch(`${node.apiUrl}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.ok, () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 500));
  }
  if (!ready) log(`Внимание: ${node.apiUrl}/readyz ещё не отвечает «готов»; журналы служб: ${path.join(config.dataDir, 'logs')}`);

  const lines = [
    '',
    'Kontrol запущен.',
    `  Вход (страницы): ${node.apiUrl}/login`,
    `  API:            ${node.apiUrl}/api  (документация: ${node.apiUrl}/api/docs)`,
    `  Готовность:     ${node.apiUrl}/readyz`,
    node.temporalUiUrl ? `  Temporal UI:    ${node.temporalUiUrl}` : `  Temporal:       ${node.temporalAddress}`,
    node.mailUiUrl ? `  Почта (веб):    ${node.mailUiUrl}  (SMTP ${node.smtpUrl}, письма в ${path.join(config.dataDir, 'mail')})` : `  SMTP:           ${node.smtpUrl}`,
    `  Данные:         ${config.dataDir}  (журналы служб: ${path.join(config.dataDir, 'logs')})`,
    '',
    'Вход:',
    `  администратор   ${config.ADMIN_EMAIL ?? '(не задан)'}${env.ADMIN_PASSWORD === DEMO_DEFAULTS.ADMIN_PASSWORD ? ` / ${DEMO_DEFAULTS.ADMIN_PASSWORD}` : ''}`,
    ...(config.DEMO_DATA ? DEMO_USERS.map((u) => `  ${u.role.padEnd(15)} ${u.email} / ${config.DEMO_PASSWORD}`) : []),
    '',
    'Службы перезапускаются сами, если какая-то из них завершится. Ctrl-C останавливает всё.',
  ];
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  if (stopping) return;
  if (error instanceof ConfigError || error instanceof DataDirError) console.error(error.message);
  else console.error('Kontrol не запустился:', error);
  void stopAll(1);
});
