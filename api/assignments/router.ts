import { pipeline } from 'node:stream/promises';
import { unlink } from 'node:fs/promises';
import { Router, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { ASSIGNMENT_STATUSES } from '../../domain/assignment';
import { type NonWorkingDayRule } from '../../domain/deadline';
import { ORG_CODE_PATTERN, RECOMMENDATION_ID_PATTERN } from '../../domain/ids';
import { ROLES, STAFF_ROLES } from '../../domain/roles';
import type { AssignmentView } from '../../store/models';
import type { FileStore } from '../../store/files';
import type { Repositories } from '../../store/repositories';
import { decideExtensionUpdate, reviewUpdate } from '../../workflows/definitions';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import { badRequest, notFound, tooLarge } from '../errors';
import type { ApiDocs } from '../openapi';
import { deadlineInput, pagination, queryBoolean, queryInt, russianErrors, validate, text } from '../validate';
import { type AssignmentService, toAssignmentOut, toEvidenceOut, toHistoryOut } from './service';

const IdParams = z.object({ id: z.string().min(1).max(200) });
const FileParams = z.object({ id: z.string().min(1).max(200), fileId: z.string().uuid() });
const ListQuery = z.strictObject({
  organization: z.string().regex(ORG_CODE_PATTERN).optional(),
  status: z.enum(ASSIGNMENT_STATUSES).optional(),
  recommendation: z.string().regex(RECOMMENDATION_ID_PATTERN).optional(),
  cycle: queryInt({ min: 1, max: 9999 }).optional(),
  overdue: queryBoolean.optional(),
  ...pagination,
});
/** A comment that must say something; `required` is the message when it is missing or blank. */
const requiredComment = (required: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? required : undefined) }).max(10_000).regex(/\S/, required).trim();
const ReviewBody = z.discriminatedUnion('decision', [
  z.strictObject({ decision: z.literal('accept'), comment: text({ max: 10_000 }).optional() }),
  z.strictObject({ decision: z.literal('return'), comment: requiredComment('при возврате на доработку нужен комментарий') }),
]);
const ExtensionBody = z.strictObject({
  until: deadlineInput('новый срок: ГГГГ-ММ-ДД или дата-время ISO 8601 с секундами и смещением, год до 2100'),
  reason: text({ min: 3, max: 5000, message: 'укажите причину' }),
});
const DecisionBody = z.discriminatedUnion('approve', [
  z.strictObject({ approve: z.literal(true), comment: text({ max: 10_000 }).optional() }),
  z.strictObject({ approve: z.literal(false), comment: requiredComment('при отказе нужен комментарий') }),
]);
const SubmissionForm = z.strictObject({ comment: z.string().max(10_000).default('') });

const AssignmentOut = z
  .object({
    id: z.string(),
    recommendationId: z.string(),
    organization: z.string(),
    organizationName: z.string().nullable(),
    cycle: z.number(),
    period: z.string().nullable().meta({ description: 'Период цикла повторяющейся рекомендации («2024», «II кв. 2024»)' }),
    status: z.enum(ASSIGNMENT_STATUSES),
    overdue: z.boolean(),
    due: z.string(),
    originalDue: z.string(),
    acceptedLate: z.boolean().nullable(),
    extension: z.object({ until: z.string(), reason: z.string(), requestedAt: z.string(), requestedBy: z.string() }).nullable(),
    submissions: z.number(),
    returns: z.number(),
    lastSubmittedAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Assignment' });
const EvidenceOut = z.object({
  id: z.string(),
  comment: z.string(),
  submittedAt: z.string(),
  submittedBy: z.string(),
  files: z.array(z.object({ id: z.string(), name: z.string(), size: z.number(), type: z.string(), sha256: z.string(), url: z.string() })),
  review: z.object({ decision: z.enum(['accept', 'return']), comment: z.string().nullable(), by: z.string(), at: z.string() }).nullable(),
});
const AssignmentDetailOut = AssignmentOut.extend({
  history: z.array(z.object({ at: z.string(), type: z.string(), actor: z.string() }).catchall(z.unknown())),
  evidence: z.array(EvidenceOut),
});

declare module 'express-serve-static-core' {
  interface Locals {
    assignment?: AssignmentView;
  }
}

export function createAssignmentsRouter({
  repos,
  service,
  files,
  limits,
  timezone,
  nonWorkingDay,
  docs,
}: {
  repos: Repositories;
  service: AssignmentService;
  files: FileStore;
  limits: { maxFileBytes: number; maxFiles: number };
  timezone: string;
  /** A new deadline follows the same working-day rule as the first one (DEADLINE_NON_WORKING_DAY). */
  nonWorkingDay: NonWorkingDayRule;
  docs: ApiDocs;
}) {
  const router = Router();

  // Access is checked before any upload is read, so a stranger's files never reach the disk.
  const load: RequestHandler<{ id: string }> = async (req, res, next) => {
    res.locals.assignment = await service.visible(req.params.id, actorOf(req));
    next();
  };
  const assignmentOf = (res: { locals: { assignment?: AssignmentView } }) => res.locals.assignment!;

  const upload = multer({
    dest: files.uploadDir,
    defParamCharset: 'utf8',
    limits: { fileSize: limits.maxFileBytes, files: limits.maxFiles, fields: 5, fieldSize: 64 * 1024, parts: limits.maxFiles + 5 },
  }).array('files');

  docs.route('get', '/api/assignments', {
    summary: 'Список поручений с фильтрами (исполнитель видит только свою организацию)',
    tag: 'Поручения',
    roles: ROLES,
    query: ListQuery,
    response: { description: 'Поручения: просроченные первыми, затем по сроку', schema: z.object({ items: z.array(AssignmentOut), total: z.number() }) },
  });
  router.get('/', validate({ query: ListQuery }), async (req, res) => {
    const actor = actorOf(req);
    const { organization, status, recommendation, cycle, overdue, limit, offset } = req.query;
    if (actor.role === 'executor' && organization && organization !== actor.organization) return void res.json({ items: [], total: 0 });
    const filter = {
      organization: actor.role === 'executor' ? actor.organization : organization,
      status,
      recommendationId: recommendation,
      cycle,
      overdue,
    };
    const { items, total } = await repos.assignments.list(filter, { limit, offset });
    const recIds = [...new Set(items.map((a) => a.recommendationId))];
    const orgCodes = [...new Set(items.map((a) => a.organization))];
    const [recs, orgs] = await Promise.all([
      repos.recommendations.cachedMany(recIds),
      repos.organizations.list({ codes: orgCodes }),
    ]);
    const recById = new Map(recs.filter((r) => r !== null).map((r) => [r._id, r]));
    const orgByCode = new Map(orgs.map((o) => [o._id, o]));
    res.json({
      items: items.map((a) => toAssignmentOut(a, recById.get(a.recommendationId), orgByCode.get(a.organization))),
      total,
      limit,
      offset,
    });
  });

  docs.route('get', '/api/assignments/{id}', {
    summary: 'Поручение с историей и отчётами',
    tag: 'Поручения',
    roles: ROLES,
    params: IdParams,
    response: { description: 'Поручение', schema: AssignmentDetailOut },
    errors: [404],
  });
  router.get('/:id', validate({ params: IdParams }), load, async (_req, res) => {
    const view = assignmentOf(res);
    const [rec, org, history, evidence] = await Promise.all([
      repos.recommendations.cached(view.recommendationId),
      repos.organizations.get(view.organization),
      repos.audit.forEntity('assignment', view._id),
      repos.evidence.forAssignment(view._id),
    ]);
    res.json({
      ...toAssignmentOut(view, rec, org),
      history: history.map(toHistoryOut),
      evidence: evidence.map((doc) => toEvidenceOut(doc, view._id)),
    });
  });

  docs.route('post', '/api/assignments/{id}/submissions', {
    summary: 'Отправить отчёт об исполнении: комментарий и файлы',
    tag: 'Поручения',
    roles: ['executor'],
    params: IdParams,
    multipart: z.strictObject({
      comment: z.string().max(10_000).optional(),
      files: z
        .array(z.string().meta({ format: 'binary' }))
        .max(limits.maxFiles)
        .optional()
        .meta({ description: `Не больше ${limits.maxFiles} файлов, каждый не больше ${Math.floor(limits.maxFileBytes / 1024 / 1024)} МБ` }),
    }),
    response: { description: 'Новое состояние поручения', schema: AssignmentOut.extend({ evidenceId: z.string() }) },
    errors: [404, 409, 413],
  });
  router.post('/:id/submissions', requireRole('executor'), validate({ params: IdParams }), load, refuseOversizedUpload(limits), upload, async (req, res) => {
    const uploaded = (req.files as Express.Multer.File[] | undefined) ?? [];
    try {
      const form = SubmissionForm.safeParse(req.body ?? {}, { error: russianErrors });
      if (!form.success) throw badRequest('Неверная форма отчёта', form.error.issues.map((i) => ({ path: `body.${i.path.join('.')}`, message: i.message })));
      const { view, evidenceId } = await service.submitEvidence(assignmentOf(res), actorRef(actorOf(req)), form.data.comment, uploaded, files);
      res.json({ ...toAssignmentOut(view), evidenceId });
    } finally {
      await discardUploads(uploaded);
    }
  });

  docs.route('post', '/api/assignments/{id}/review', {
    summary: 'Проверить отчёт: принять или вернуть на доработку с комментарием',
    tag: 'Поручения',
    roles: STAFF_ROLES,
    params: IdParams,
    body: ReviewBody,
    response: { description: 'Новое состояние поручения', schema: AssignmentOut },
    errors: [404, 409],
  });
  router.post('/:id/review', requireRole(...STAFF_ROLES), validate({ params: IdParams, body: ReviewBody }), load, async (req, res) => {
    const next = await service.update(assignmentOf(res), reviewUpdate, { actor: actorRef(actorOf(req)), ...req.body });
    res.json(toAssignmentOut(next));
  });

  docs.route('post', '/api/assignments/{id}/extension-requests', {
    summary: 'Попросить продлить срок',
    tag: 'Поручения',
    roles: ['executor'],
    params: IdParams,
    body: ExtensionBody,
    response: { description: 'Новое состояние поручения', schema: AssignmentOut },
    errors: [404, 409],
  });
  router.post(
    '/:id/extension-requests',
    requireRole('executor'),
    validate({ params: IdParams, body: ExtensionBody }),
    load,
    async (req, res) => {
      const next = await service.requestExtension(assignmentOf(res), actorRef(actorOf(req)), req.body, { timezone, rule: nonWorkingDay });
      res.json(toAssignmentOut(next));
    },
  );

  docs.route('post', '/api/assignments/{id}/extension-requests/decision', {
    summary: 'Решить запрос о продлении срока',
    tag: 'Поручения',
    roles: STAFF_ROLES,
    params: IdParams,
    body: DecisionBody,
    response: { description: 'Новое состояние поручения', schema: AssignmentOut },
    errors: [404, 409],
  });
  router.post(
    '/:id/extension-requests/decision',
    requireRole(...STAFF_ROLES),
    validate({ params: IdParams, body: DecisionBody }),
    load,
    async (req, res) => {
      const next = await service.update(assignmentOf(res), decideExtensionUpdate, { actor: actorRef(actorOf(req)), ...req.body });
      res.json(toAssignmentOut(next));
    },
  );

  docs.route('get', '/api/assignments/{id}/files/{fileId}', {
    summary: 'Скачать файл отчёта',
    tag: 'Поручения',
    roles: ROLES,
    params: FileParams,
    response: { description: 'Файл', contentType: 'application/octet-stream', schema: z.string().meta({ format: 'binary' }) },
    errors: [404],
  });
  router.get('/:id/files/:fileId', validate({ params: FileParams }), load, async (req, res) => {
    await sendEvidenceFile(res, { repos, files }, assignmentOf(res)._id, req.params.fileId);
  });

  return router;
}

/**
 * One evidence file of an assignment the caller may already see, as a download: served in a
 * sandbox, so an uploaded HTML file never runs in our origin. 404 for a file not of it.
 */
export async function sendEvidenceFile(res: Response, { repos, files }: { repos: Repositories; files: FileStore }, assignmentId: string, fileId: string) {
  const file = await repos.evidence.findFile(assignmentId, fileId);
  // Opened before any header: a file that is there but unreadable gets the error handler's 500.
  const content = file && (await files.open(file.sha256));
  if (!file || !content) throw notFound('Файл не найден');
  res.setHeader('Content-Type', file.type);
  res.setHeader('Content-Length', String(file.size));
  res.setHeader('ETag', `"${file.sha256}"`);
  res.setHeader('Content-Disposition', contentDisposition(file.name));
  res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
  try {
    await pipeline(content, res);
  } catch (error) {
    // The reader went away, or the disk failed mid-file: the connection is closed (a short
    // download, never a truncated file taken for whole), and only the second is worth a line.
    if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') res.req.log?.error({ err: error, sha256: file.sha256 }, 'download failed');
  }
}

/** Room in a submission's body beside its files: the comment (10,000 characters), the form's fields, the parts' headers. */
const SUBMISSION_OVERHEAD_BYTES = 256 * 1024;

/**
 * Refuses a submission whose declared length is more than all its files may be together, before
 * any of it is read, and closes the connection so the client stops sending. (One file over its
 * limit in a body within this one is refused by the upload's own limit, as soon as it passes it.)
 */
export function refuseOversizedUpload(limits: { maxFileBytes: number; maxFiles: number }): RequestHandler {
  const most = limits.maxFiles * limits.maxFileBytes + SUBMISSION_OVERHEAD_BYTES;
  const mb = Math.floor(limits.maxFileBytes / 1024 / 1024);
  return (req, res, next) => {
    const declared = Number(req.get('content-length'));
    if (!(declared > most)) return next();
    res.set('Connection', 'close');
    next(tooLarge(`Файлы больше допустимого: не больше ${limits.maxFiles} файлов по ${mb} МБ`, { maxFileMb: mb, maxFiles: limits.maxFiles }));
  };
}

/** Files already adopted were moved away; whatever is left in the upload directory is garbage. */
export async function discardUploads(uploaded: Array<{ path: string }>): Promise<void> {
  await Promise.all(uploaded.map((f) => unlink(f.path).catch(() => undefined)));
}

export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
