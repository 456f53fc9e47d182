/** Entry point of the API process (`npm run api`). */
import { loadConfig } from '../config';
import { createLogger } from '../config/logger';
import { runProcess } from '../config/process';
import { startApi } from './server';

runProcess('api', async () => {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'api');
  const api = await startApi(config, logger);
  return { logger, stop: () => api.close() };
});
