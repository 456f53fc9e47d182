/** Entry point of the API process (`npm run api`). */
import { loadConfig } from '../config';
import { createLogger } from '../config/logger';
import { runProcess } from '../config/process';
import { seedDemoData } from '../seed/demo';
import { startApi } from './server';

runProcess('api', async () => {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'api');
  const api = await startApi(config, logger);
  // Idempotent, so every start (and restart under the node supervisor) may run it.
  if (config.DEMO_DATA) {
    await seedDemoData({ repos: api.db.repos, recommendations: api.services.recommendations, password: config.DEMO_PASSWORD, logger });
  }
  return { logger, stop: () => api.close() };
});
