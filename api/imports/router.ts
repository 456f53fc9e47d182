/**
 * The protocol import's routes (staff only); the reading and the confirmation live in ./service.
 */
import { Router } from 'express';
import { z } from 'zod';
import { STAFF_ROLES } from '../../domain/roles';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import type { ApiDocs } from '../openapi';
import { PolicySchema } from '../policy/schema';
import { RecommendationBody } from '../recommendations/router';
import { isoDate, pagination, validate } from '../validate';
import type { ImportService } from './service';

const SourceBody = RecommendationBody.shape.source;
const ImportBody = z.strictObject({
  text: z.string().min(20, 'вставьте текст протокола или письма').max(200_000, 'не больше 200 000 знаков'),
  source: SourceBody.optional().meta({ description: 'Документ-источник, если прочитанный из текста неверен' }),
  reference: isoDate.optional().meta({ description: 'Дата документа для сроков без года (по умолчанию — дата письма из текста)' }),
});
const ConfirmItem = z.strictObject({
  n: z.number().int().min(1),
  text: RecommendationBody.shape.text.optional(),
  assignees: RecommendationBody.shape.assignees,
  groups: RecommendationBody.shape.groups,
  deadline: RecommendationBody.shape.deadline.optional(),
  policy: PolicySchema.optional(),
});
const ConfirmBody = z.strictObject({
  source: SourceBody.optional().meta({ description: 'Документ-источник (по умолчанию прочитанный из текста)' }),
  items: z
    .array(ConfirmItem)
    .min(1, 'выберите хотя бы один пункт')
    .max(500)
    .meta({ description: 'Пункты к выдаче; незаданные поля берутся из черновика. Адресаты: assignees и/или groups заменяют предложенных' }),
});
const IdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{8,24}$/, 'неверный идентификатор') });

const DocumentOut = z.object({
  kind: z.enum(['protocol', 'letter']),
  number: z.string(),
  date: z.string(),
  title: z.string(),
  issuer: z.string().optional(),
  words: z.string(),
});
const ProposalOut = z.object({
  text: z.string(),
  groups: z.array(z.string()),
  assignees: z.array(z.string()),
  deadline: z.object({ due: z.string(), recurrence: z.object({ frequency: z.string() }).optional() }).nullable(),
});
const ItemOut = z.object({
  n: z.number(),
  original: z.string(),
  deadline: z.object({ kind: z.enum(['date', 'recurring', 'standing', 'unknown']), source: z.string() }).catchall(z.unknown()),
  addressees: z.object({ groups: z.array(z.string()), from: z.enum(['item', 'header', 'none']), words: z.string(), organizations: z.number() }),
  problems: z.array(z.string()),
  proposal: ProposalOut.meta({ description: 'Что создаст подтверждение, если пункт не исправлять' }),
});
const CreatedOut = z.object({ n: z.number(), id: z.string(), status: z.string(), assignments: z.number() });
const IssueWarningOut = z
  .object({
    code: z.enum(['source_registered', 'deadline_passed']),
    message: z.string(),
    recommendations: z.array(z.object({ id: z.string(), text: z.string(), status: z.enum(['draft', 'issued', 'withdrawn']) })).optional(),
    due: z.string().optional(),
  })
  .meta({ id: 'IssueWarning' });

const ImportOut = z
  .object({
    id: z.string(),
    status: z.enum(['draft', 'confirming', 'confirmed']),
    reference: z.string(),
    source: DocumentOut.nullable(),
    documents: z.array(DocumentOut),
    items: z.array(ItemOut),
    createdAt: z.string(),
    createdBy: z.string(),
    recommendations: z.array(CreatedOut).nullable(),
    warnings: z.array(IssueWarningOut).meta({ description: 'До подтверждения: документ уже зарегистрирован, сроки уже прошли' }),
  })
  .meta({ id: 'ProtocolImport' });


export function createImportsRouter({ service, docs }: { service: ImportService; docs: ApiDocs }) {
  const router = Router();
  router.use(requireRole(...STAFF_ROLES));
  docs.route('post', '/api/imports/protocol', {
    summary: 'Прочитать протокол или письмо: черновики рекомендаций для проверки (ничего не выдаётся)',
    tag: 'Импорт',
    roles: STAFF_ROLES,
    body: ImportBody,
    response: { status: 201, description: 'Черновики', schema: ImportOut },
  });
  router.post('/protocol', validate({ body: ImportBody }), async (req, res) => {
    const doc = await service.read(req.body, actorRef(actorOf(req)));
    res.status(201).json(await service.view(doc));
  });
  docs.route('get', '/api/imports', {
    summary: 'Импортированные протоколы и письма, новые первыми',
    tag: 'Импорт',
    roles: STAFF_ROLES,
    query: z.strictObject({ ...pagination }),
    response: { description: 'Импорты', schema: z.object({ items: z.array(ImportOut), total: z.number() }) },
  });
  router.get('/', validate({ query: z.strictObject({ ...pagination }) }), async (req, res) => {
    const { items, total } = await service.list(req.query);
    res.json({ items: await Promise.all(items.map(service.view)), total });
  });

  docs.route('get', '/api/imports/{id}', {
    summary: 'Импорт: черновики и созданные по нему рекомендации',
    tag: 'Импорт',
    roles: STAFF_ROLES,
    params: IdParams,
    response: { description: 'Импорт', schema: ImportOut },
    errors: [404],
  });
  router.get('/:id', validate({ params: IdParams }), async (req, res) => {
    res.json(await service.view(await service.get(req.params.id)));
  });

  docs.route('post', '/api/imports/{id}/confirm', {
    summary: 'Подтвердить черновики: создать и выдать рекомендации одним шагом (повторный вызов ничего не создаёт дважды)',
    tag: 'Импорт',
    roles: STAFF_ROLES,
    params: IdParams,
    body: ConfirmBody,
    response: { description: 'Созданы и выданы', schema: ImportOut },
    errors: [404, 409],
  });
  router.post('/:id/confirm', validate({ params: IdParams, body: ConfirmBody }), async (req, res) => {
    const doc = await service.confirm(req.params.id, req.body, actorRef(actorOf(req)));
    res.json(await service.view(doc));
  });

  return router;
}
