import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    // Secrets never reach the log, even when a request or config object is logged whole.
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'password', '*.password', 'JWT_SECRET', 'ADMIN_PASSWORD', '*.passwordHash'],
      censor: '[redacted]',
    },
  });
}
