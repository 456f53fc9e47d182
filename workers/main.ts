/** Entry point of the worker process (`npm run worker`). */
import { loadConfig } from '../config';
import { createLogger } from '../config/logger';
import { runProcess } from '../config/process';
import { startWorker } from './worker';

runProcess('worker', async () => {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  const running = await startWorker(config, logger);
  // A worker that dies on its own (e.g. lost its server for good) ends the process, to be restarted.
  running.done.catch((error: unknown) => {
    logger.fatal({ err: error }, 'worker stopped');
    process.exit(1);
  });
  return { logger, stop: () => running.shutdown() };
});
