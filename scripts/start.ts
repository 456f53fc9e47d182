/**
 * `npm start`: the whole stack in the foreground. Embedded Temporal dev server, FerretDB and an
 * SMTP catcher (each only when its *_ADDRESS/URI/URL is not set), then the worker and the API in
 * this process, then idempotent demo data. Ctrl-C stops everything in reverse order.
 */
import path from 'node:path';
import { loadConfig, ConfigError } from '../config';
import { createLogger } from '../config/logger';
import { startApi, type RunningApi } from '../api/server';
import { readiness } from '../api/health';
import { startWorker, type RunningWorker } from '../workers/worker';
import { seedDemoData, DEMO_USERS } from '../seed/demo';
import { startFerretDb } from '../stack/ferretdb';
import { startMailViewer, type MailViewer } from '../stack/mail-viewer';
import { isAddressInUse } from '../stack/ports';
import { startSmtpCatcher } from '../stack/smtp-catcher';
import { startTemporalDevServer } from '../stack/temporal';

const DEFAULTS = {
  ADMIN_EMAIL: 'admin@demo.kontrol.test',
  ADMIN_PASSWORD: 'kontrol-admin',
  DEMO_DATA: 'true',
};
const DEMO_PASSWORD = process.env.DEMO_PASSWORD || 'kontrol-demo';

const stops: Array<() => Promise<void>> = [];
let stopping = false;

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nОстанавливаю Kontrol…');
  for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error('stop failed:', e));
  process.exit(code);
}

async function main() {
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  // Empty values mean unset here too (as in config), so they do not switch the defaults off.
  const given = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
  const env: NodeJS.ProcessEnv = { ...DEFAULTS, ...given };
  const base = loadConfig(env);
  const logger = createLogger(base.LOG_LEVEL, 'kontrol');

  let temporalUi: string | undefined;
  let mailDir: string | undefined;
  let mailViewer: MailViewer | undefined;
  if (!env.TEMPORAL_ADDRESS) {
    const temporal = await startTemporalDevServer({
      dataDir: path.join(base.dataDir, 'temporal'),
      ui: true,
      logFile: path.join(base.dataDir, 'temporal.log'),
    });
    stops.push(() => temporal.stop());
    env.TEMPORAL_ADDRESS = temporal.address;
    temporalUi = temporal.uiUrl;
  }
  if (!env.MONGODB_URI) {
    const ferret = await startFerretDb({ dataDir: path.join(base.dataDir, 'ferretdb'), logFile: path.join(base.dataDir, 'ferretdb.log') });
    stops.push(() => ferret.stop());
    env.MONGODB_URI = ferret.databaseUri('kontrol');
  }
  if (!env.SMTP_URL) {
    mailDir = path.join(base.dataDir, 'mail');
    const smtp = await startSmtpCatcher({ maildir: mailDir });
    stops.push(() => smtp.stop());
    env.SMTP_URL = smtp.url;
    // 8025 as MailHog and Mailpit use, unless taken: then any free port (the banner says which).
    const viewerPort = Number(process.env.MAIL_UI_PORT || 8025);
    const viewer = await startMailViewer({ maildir: mailDir, port: viewerPort }).catch((error: unknown) => {
      if (isAddressInUse(error)) return startMailViewer({ maildir: mailDir! });
      throw error;
    });
    stops.push(() => viewer.stop());
    mailViewer = viewer;
  }

  const config = loadConfig(env);
  const worker: RunningWorker = await startWorker(config, logger.child({ component: 'worker' }));
  stops.push(() => worker.shutdown());
  const api: RunningApi = await startApi(config, logger.child({ component: 'api' }));
  stops.push(() => api.close());

  if (config.DEMO_DATA) {
    await seedDemoData({ repos: api.db.repos, recommendations: api.services.recommendations, password: DEMO_PASSWORD, logger });
  }
  for (let i = 0; i < 60 && !(await readiness({ db: api.db, temporal: api.temporal, taskQueue: config.TEMPORAL_TASK_QUEUE })).ready; i++) {
    await new Promise((r) => setTimeout(r, 500));
  }

  const lines = [
    '',
    'Kontrol запущен.',
    `  Вход (страницы): ${api.url}/login`,
    `  API:            ${api.url}/api  (документация: ${api.url}/api/docs)`,
    `  Готовность:     ${api.url}/readyz`,
    temporalUi ? `  Temporal UI:    ${temporalUi}` : `  Temporal:       ${config.TEMPORAL_ADDRESS}`,
    mailDir ? `  Письма (SMTP):  ${config.SMTP_URL}, сохраняются в ${mailDir}` : `  SMTP:           ${config.SMTP_URL}`,
    ...(mailViewer ? [`  Почта (веб):    ${mailViewer.url}`] : []),
    `  Данные:         ${config.dataDir}`,
    '',
    'Вход:',
    `  администратор   ${config.ADMIN_EMAIL ?? '(не задан)'}${env.ADMIN_PASSWORD === DEFAULTS.ADMIN_PASSWORD ? ` / ${DEFAULTS.ADMIN_PASSWORD}` : ''}`,
    ...(config.DEMO_DATA ? DEMO_USERS.map((u) => `  ${u.role.padEnd(15)} ${u.email} / ${DEMO_PASSWORD}`) : []),
    '',
    'Ctrl-C останавливает всё.',
  ];
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('Kontrol failed to start:', error);
  void stopAll(1);
});
