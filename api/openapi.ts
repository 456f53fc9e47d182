/**
 * The OpenAPI description is generated from the same zod schemas the routes validate with, so the
 * document cannot drift from what the API accepts. Routers describe themselves as they are built.
 */
import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Role } from '../domain/roles';

export const ErrorBody = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .meta({ id: 'Error' });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Неверные входные данные',
  401: 'Нет входа или сеанс истёк',
  403: 'Роль не позволяет это действие',
  404: 'Не найдено (или принадлежит другой организации)',
  409: 'Недопустимый переход или дубликат',
  413: 'Слишком большой запрос или файлы',
  422: 'Ключ идемпотентности уже использован для другого запроса',
  429: 'Слишком много попыток',
};

const CHANGES = new Set(['post', 'put', 'patch', 'delete']);
const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/)
    .optional()
    .describe('Ключ идемпотентности: повтор запроса с тем же ключом (в течение суток) получает ответ первого и ничего не меняет'),
});

interface RouteSpec {
  summary: string;
  tag: string;
  /** Who may call it; undefined means no login is needed. */
  roles?: readonly Role[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  multipart?: z.ZodType;
  response?: {
    status?: number;
    description: string;
    schema?: z.ZodType;
    contentType?: string;
    /** Other content types the same answer may come in, chosen by the request (such as ?part=html). */
    alternatives?: Record<string, z.ZodType>;
  };
  /** Successful answers besides the main one, such as a 202 for work still under way. */
  otherResponses?: { status: number; description: string; schema?: z.ZodType }[];
  errors?: number[];
}

export class ApiDocs {
  readonly registry = new OpenAPIRegistry();
  /** Every documented path (as a pattern over request paths) with its methods. */
  private readonly paths = new Map<string, { pattern: RegExp; templated: boolean; methods: Set<string> }>();

  constructor() {
    this.registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  }

  route(method: RouteConfig['method'], expressPath: string, spec: RouteSpec): void {
    const path = expressPath.replace(/:([A-Za-z]+)/g, '{$1}');
    const known = this.paths.get(path) ?? {
      pattern: new RegExp(`^${path.replace(/\{[A-Za-z]+\}/g, '[^/]+')}/?$`),
      templated: path.includes('{'),
      methods: new Set<string>(),
    };
    known.methods.add(method.toUpperCase());
    this.paths.set(path, known);
    const ok = spec.response ?? { description: 'OK' };
    const responses: RouteConfig['responses'] = {
      [ok.status ?? 200]: {
        description: ok.description,
        ...(ok.schema
          ? {
              content: {
                [ok.contentType ?? 'application/json']: { schema: ok.schema },
                ...Object.fromEntries(Object.entries(ok.alternatives ?? {}).map(([type, schema]) => [type, { schema }])),
              },
            }
          : {}),
      },
    };
    for (const other of spec.otherResponses ?? []) {
      responses[other.status] = {
        description: other.description,
        ...(other.schema ? { content: { 'application/json': { schema: other.schema } } } : {}),
      };
    }
    // A signed-in call that changes something takes an Idempotency-Key (api/idempotency.ts): a
    // repeat of it is answered as the first was (409 while the first still runs, 422 for another request).
    const keyed = Boolean(spec.roles) && CHANGES.has(method);
    // Any body may be over the parser's limit (1 MB of JSON; files by UPLOAD_MAX_*).
    const errors = new Set([
      400,
      ...(spec.roles ? [401, 403] : []),
      ...(spec.body || spec.multipart ? [413] : []),
      ...(keyed ? [409, 422] : []),
      ...(spec.errors ?? []),
    ]);
    for (const status of errors) {
      responses[status] = { description: ERROR_DESCRIPTIONS[status] ?? 'Ошибка', content: { 'application/json': { schema: ErrorBody } } };
    }
    const request: RouteConfig['request'] = {};
    if (spec.params) request.params = spec.params;
    if (spec.query) request.query = spec.query;
    if (keyed) request.headers = IdempotencyHeader;
    // A body is required unless an empty one is valid: the document must refuse what validation refuses.
    const required = (schema: z.ZodType) => !schema.safeParse({}).success;
    if (spec.body) request.body = { required: required(spec.body), content: { 'application/json': { schema: spec.body } } };
    if (spec.multipart) request.body = { required: required(spec.multipart), content: { 'multipart/form-data': { schema: spec.multipart } } };
    this.registry.registerPath({
      method,
      path,
      summary: spec.summary,
      description: spec.roles ? `Роли: ${spec.roles.join(', ')}` : 'Без входа',
      tags: [spec.tag],
      security: spec.roles ? [{ bearerAuth: [] }] : undefined,
      request,
      responses,
    });
  }

  /**
   * The methods a documented path answers (HEAD with GET, OPTIONS always), or undefined for a path
   * the API does not have: the basis of 405 with an Allow header.
   */
  methodsFor(requestPath: string): string[] | undefined {
    // As OpenAPI matches paths: a path without parameters wins over a templated one it also fits
    // (/api/imports/protocol is that path, not /api/imports/{id} with id "protocol").
    const matching = [...this.paths.values()].filter(({ pattern }) => pattern.test(requestPath));
    const exact = matching.filter(({ templated }) => !templated);
    const methods = new Set<string>();
    for (const { methods: declared } of exact.length > 0 ? exact : matching) for (const m of declared) methods.add(m);
    if (methods.size === 0) return undefined;
    if (methods.has('GET')) methods.add('HEAD');
    methods.add('OPTIONS');
    return [...methods].sort();
  }

  document() {
    return new OpenApiGeneratorV3(this.registry.definitions).generateDocument({
      openapi: '3.0.3',
      info: {
        title: 'Kontrol API',
        version: '1.0.0',
        description: 'Контроль исполнения рекомендаций: рекомендации, поручения организациям, отчёты и их проверка.',
      },
      servers: [{ url: '/' }],
    });
  }
}
