/**
 * The Express app, built from injected clients so tests can pass their own. Public: health, the
 * OpenAPI document and docs, login. Everything else under /api needs a valid token.
 */
import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import { createEmailRenderer } from '../notifications/render';
import type { Database } from '../store/db';
import type { FileStore } from '../store/files';
import { createAssignmentsRouter } from './assignments/router';
import { createAssignmentService } from './assignments/service';
import { createCalendarRouter } from './calendar/router';
import { authenticate } from './auth/middleware';
import { headerKey, idempotent } from './idempotency';
import { createAuthRouter } from './auth/router';
import type { TokenService } from './auth/tokens';
import { AppError, errorMiddleware, notFoundRoute } from './errors';
import { createHealthRouter } from './health';
import { ApiDocs } from './openapi';
import { createOrganizationsRouter } from './organizations/router';
import { createOutboxRouter } from './outbox/router';
import { createPolicyRouter } from './policy/router';
import { createDeadlinesRouter } from './deadlines/router';
import { createRecommendationsRouter } from './recommendations/router';
import { createRecommendationService } from './recommendations/service';
import { createGroupsRouter } from './groups/router';
import { createWebRouter } from '../web/router';
import { sessionMiddleware } from '../web/session';
import { installViews } from '../web/views';
import { createImportsRouter } from './imports/router';
import { createImportService } from './imports/service';
import { createTemplatesRouter } from './templates/router';
import { createUsersRouter } from './users/router';

export interface AppDeps {
  config: Config;
  /** Signs page session cookies (SESSION_SECRET, never the JWT secret). */
  sessionSecret: string;
  db: Database;
  temporal: Client;
  files: FileStore;
  tokens: TokenService;
  logger: Logger;
}

export function createApp({ config, db, temporal, files, tokens, logger, sessionSecret }: AppDeps) {
  const { repos } = db;
  const docs = new ApiDocs();
  const recommendations = createRecommendationService({
    repos,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    timezone: config.TIMEZONE,
    nonWorkingDay: config.DEADLINE_NON_WORKING_DAY,
    batchSize: config.ISSUE_BATCH_SIZE,
  });
  const assignments = createAssignmentService({ repos, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE });
  const imports = createImportService({ repos, recommendations, timezone: config.TIMEZONE, rule: config.DEADLINE_NON_WORKING_DAY });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxy(config.TRUST_PROXY));
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string | undefined)?.slice(0, 100) || randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    }),
  );
  app.use(helmet());
  app.use(createHealthRouter({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, servicesStatusFile: config.KONTROL_SERVICES_STATUS }));
  app.use(express.json({ limit: '1mb' }));

  // Methods are checked against the document before any router sees the request: PUT
  // /api/calendar/deadline must be 405, not the PUT /api/calendar/:year route refusing "deadline" as
  // a year. OPTIONS answers with the declared methods, not Express's guess from matching routes.
  app.use((req, res, next) => {
    const allowed = req.path.startsWith('/api/') ? docs.methodsFor(req.path) : undefined;
    if (!allowed) return next();
    res.setHeader('Allow', allowed.join(', '));
    if (req.method === 'OPTIONS') return void res.status(204).end();
    if (allowed.includes(req.method)) return next();
    next(new AppError(405, 'method_not_allowed', `Метод ${req.method} для этого адреса не поддерживается`));
  });
  app.use('/api/auth', createAuthRouter({ repos, tokens, docs, rate: { limit: config.LOGIN_RATE_LIMIT, windowSeconds: config.LOGIN_RATE_WINDOW_SECONDS } }));
  // Signed in; and a request that changes something with an Idempotency-Key acts once (api/idempotency.ts).
  const requireLogin = [
    authenticate({ tokens, repos }),
    idempotent({ store: repos.idempotency, keyOf: headerKey, onError: (error) => logger.warn({ err: error }, 'idempotency: an answer was not recorded') }),
  ];
  app.use('/api/organizations', requireLogin, createOrganizationsRouter({ repos, docs }));
  app.use('/api/users', requireLogin, createUsersRouter({ repos, docs }));
  app.use('/api/settings', requireLogin, createPolicyRouter({ repos, docs }));
  app.use(
    '/api/deadlines',
    requireLogin,
    createDeadlinesRouter({ repos, docs, timezone: config.TIMEZONE, rule: config.DEADLINE_NON_WORKING_DAY }),
  );
  app.use('/api/groups', requireLogin, createGroupsRouter({ repos, docs }));
  app.use(
    '/api/imports',
    requireLogin,
    createImportsRouter({ service: imports, docs }),
  );
  app.use('/api/recommendations', requireLogin, createRecommendationsRouter({ repos, service: recommendations, docs, cycleContext: { timezone: config.TIMEZONE, rule: config.DEADLINE_NON_WORKING_DAY } }));
  app.use(
    '/api/assignments',
    requireLogin,
    createAssignmentsRouter({
      repos,
      service: assignments,
      files,
      limits: { maxFileBytes: config.uploadMaxFileBytes, maxFiles: config.UPLOAD_MAX_FILES },
      timezone: config.TIMEZONE,
      nonWorkingDay: config.DEADLINE_NON_WORKING_DAY,
      docs,
    }),
  );
  app.use(
    '/api/calendar',
    requireLogin,
    createCalendarRouter({ repos, timezone: config.TIMEZONE, rule: config.DEADLINE_NON_WORKING_DAY, docs }),
  );
  // Previews render as the worker sends: the same renderer settings and the same base for links.
  const renderer = createEmailRenderer({ timezone: config.TIMEZONE, authority: config.AUTHORITY_NAME });
  const { baseUrl } = config;
  app.use('/api/templates', requireLogin, createTemplatesRouter({ renderer, baseUrl, docs }));
  app.use('/api/outbox', requireLogin, createOutboxRouter({ repos, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, docs }));

  // The pages: everything outside /api, with a cookie session the JSON API never reads.
  installViews(app, { timezone: config.TIMEZONE });
  const pages = Router();
  pages.use(
    createWebRouter({
      session: sessionMiddleware({ connection: db.connection, secret: sessionSecret, secure: config.baseUrl.startsWith('https:'), ttlSeconds: ttlSeconds(config.TOKEN_TTL) }),
      repos,
      assignments,
      recommendations,
      imports,
      temporal,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      files,
      limits: { maxFileBytes: config.uploadMaxFileBytes, maxFiles: config.UPLOAD_MAX_FILES, maxFileMb: config.UPLOAD_MAX_FILE_MB },
      timezone: config.TIMEZONE,
      nonWorkingDay: config.DEADLINE_NON_WORKING_DAY,
      login: { limit: config.LOGIN_RATE_LIMIT, windowSeconds: config.LOGIN_RATE_WINDOW_SECONDS },
    }),
  );

  const openapi = docs.document();
  app.get('/api/openapi.json', (_req, res) => void res.json(openapi));
  app.use('/api/docs', swaggerUi.serve, swaggerUi.setup(openapi, { customSiteTitle: 'Kontrol API' }));

  app.use((req, res, next) => (req.path === '/api' || req.path.startsWith('/api/') ? next() : pages(req, res, next)));
  app.use(notFoundRoute);
  app.use(errorMiddleware({ uploadMaxFileMb: config.UPLOAD_MAX_FILE_MB, uploadMaxFiles: config.UPLOAD_MAX_FILES }));
  return { app, services: { recommendations, assignments } };
}

/** "30m", "8h", "7d" (TOKEN_TTL) in seconds. */
function ttlSeconds(ttl: string): number {
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[ttl.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return Number(ttl.slice(0, -1)) * unit;
}

/** TRUST_PROXY as Express takes it: true/false, a hop count, or addresses/subnets. */
function trustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}
