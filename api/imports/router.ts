/**
 * Protocol import: a curator pastes a protocol or letter, gets draft recommendations read from it
 * (items, deadlines, addressees, source document), corrects what needs correcting, and confirms;
 * the confirmation creates and issues them in one step. Nothing is issued before that.
 *
 * The import is stored with its text and drafts. Confirming records, before creating anything,
 * exactly what it will create (recommendation ids derive from the import's id), so a repeated
 * request, a second curator's click or a resumed one after a crash creates nothing twice.
 */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { ActorRef } from '../../domain/assignment';
import { isoDateIn, type NonWorkingDayRule } from '../../domain/deadline';
import type { ParsedDeadline } from '../../domain/deadline-phrase';
import { readProtocol, type DocumentRef, type DraftItem } from '../../domain/protocol-reader';
import { STAFF_ROLES } from '../../domain/roles';
import { loadCalendar } from '../../store/calendar';
import type { ProtocolImport } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { isDuplicateKey } from '../../store/repositories';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import { AppError, badRequest, notFound } from '../errors';
import type { ApiDocs } from '../openapi';
import { PolicySchema } from '../policy/schema';
import { RecommendationBody } from '../recommendations/router';
import type { NewRecommendation, RecommendationService } from '../recommendations/service';
import { pagination, validate } from '../validate';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'дата в виде ГГГГ-ММ-ДД')
  .refine((d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'нет такой даты');
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
  })
  .meta({ id: 'ProtocolImport' });

interface Drafts {
  source: DocumentRef | null;
  documents: DocumentRef[];
  items: Array<DraftItem & { proposal: Proposal; organizations: number }>;
}
type Proposal = z.infer<typeof ProposalOut>;

function proposalOf(item: DraftItem): Proposal {
  return { text: item.text, groups: item.addressees.groups, assignees: [], deadline: deadlineProposal(item.deadline) };
}

/** A date deadline is proposed as the date the words name: the working-day rule applies on creation. */
function deadlineProposal(deadline: ParsedDeadline): Proposal['deadline'] {
  if (deadline.kind === 'date') return { due: deadline.nominal };
  if (deadline.kind === 'recurring') return { due: deadline.nominal, recurrence: { frequency: deadline.recurrence.frequency } };
  return null;
}

function sourceInput(doc: DocumentRef): NewRecommendation['source'] {
  return { kind: doc.kind, number: doc.number, date: doc.date, title: doc.title, ...(doc.issuer ? { issuer: doc.issuer } : {}) };
}

export function createImportsRouter({
  repos,
  recommendations,
  docs,
  timezone,
  rule,
}: {
  repos: Repositories;
  recommendations: RecommendationService;
  docs: ApiDocs;
  timezone: string;
  rule: NonWorkingDayRule;
}) {
  const router = Router();
  router.use(requireRole(...STAFF_ROLES));

  async function toOut(doc: Omit<ProtocolImport, 'text'>) {
    const drafts = doc.drafts as Drafts;
    const created = doc.confirmation
      ? await Promise.all(
          doc.confirmation.recommendations.map(async ({ n, id }) => {
            const rec = await repos.recommendations.get(id);
            const counts = rec ? await repos.assignments.countsByState(id) : { total: 0 };
            return { n, id, status: rec?.status ?? 'pending', assignments: counts.total };
          }),
        )
      : null;
    return {
      id: doc._id,
      status: doc.status,
      reference: doc.reference,
      source: drafts.source,
      documents: drafts.documents,
      items: drafts.items.map(({ n, original, deadline, addressees, problems, proposal, organizations }) => ({
        n,
        original,
        deadline,
        addressees: { ...addressees, organizations },
        problems,
        proposal,
      })),
      createdAt: (doc.createdAt ?? new Date(0)).toISOString(),
      createdBy: doc.createdBy.email,
      recommendations: created,
    };
  }

  docs.route('post', '/api/imports/protocol', {
    summary: 'Прочитать протокол или письмо: черновики рекомендаций для проверки (ничего не выдаётся)',
    tag: 'Импорт',
    roles: STAFF_ROLES,
    body: ImportBody,
    response: { status: 201, description: 'Черновики', schema: ImportOut },
  });
  router.post('/protocol', validate({ body: ImportBody }), async (req, res) => {
    const actor = actorRef(actorOf(req));
    const groups = await repos.groups.list();
    const read = readProtocol(req.body.text, {
      calendar: await loadCalendar(repos),
      timezone,
      rule,
      groups: groups.map((g) => ({ code: g._id, phrases: [g.name, ...g.phrases] })),
      today: req.body.reference ?? isoDateIn(new Date(), timezone),
    });
    if (read.items.length === 0)
      throw badRequest(
        'В тексте не найдено пунктов с поручениями: ожидаются строки списка («·», «•», «-», «1.», «1)») или предложения со сроком («до 05 октября 2020 г.», «срок – сентябрь 2022 г.»)',
      );
    const sizes = new Map<string, number>();
    for (const g of new Set(read.items.flatMap((i) => i.addressees.groups))) sizes.set(g, (await repos.organizations.list({ group: g })).length);
    const source = req.body.source ? { ...req.body.source, title: req.body.source.title ?? '', words: '' } : read.source;
    const drafts: Drafts = {
      source,
      documents: read.documents,
      items: read.items.map((item) => ({
        ...item,
        proposal: proposalOf(item),
        organizations: item.addressees.groups.reduce((sum, g) => sum + (sizes.get(g) ?? 0), 0),
      })),
    };
    const doc = await repos.imports.create({
      _id: randomBytes(9).toString('base64url'),
      text: req.body.text,
      reference: req.body.reference ?? read.reference,
      drafts,
      status: 'draft',
      createdBy: actor,
    });
    await repos.audit.record({ actor, action: 'import-read', entity: { kind: 'import', id: doc._id }, details: { items: drafts.items.length } });
    res.status(201).json(await toOut(doc));
  });

  docs.route('get', '/api/imports', {
    summary: 'Импортированные протоколы и письма, новые первыми',
    tag: 'Импорт',
    roles: STAFF_ROLES,
    query: z.strictObject({ ...pagination }),
    response: { description: 'Импорты', schema: z.object({ items: z.array(ImportOut), total: z.number() }) },
  });
  router.get('/', validate({ query: z.strictObject({ ...pagination }) }), async (req, res) => {
    const { items, total } = await repos.imports.list(req.query);
    res.json({ items: await Promise.all(items.map(toOut)), total });
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
    const doc = await repos.imports.get(req.params.id);
    if (!doc) throw notFound('Импорт не найден');
    res.json(await toOut(doc));
  });

  docs.route('post', '/api/imports/{id}/confirm', {
    summary: 'Подтвердить черновики: создать и выдать рекомендации одним шагом (повторный вызов ничего не создаёт дважды)',
    tag: 'Импорт',
    roles: STAFF_ROLES,
    params: IdParams,
    body: ConfirmBody,
    response: { description: 'Созданы и выданы', schema: ImportOut },
    errors: [404],
  });
  router.post('/:id/confirm', validate({ params: IdParams, body: ConfirmBody }), async (req, res) => {
    const actor = actorRef(actorOf(req));
    const found = await repos.imports.get(req.params.id);
    if (!found) throw notFound('Импорт не найден');
    let doc: ProtocolImport = found;
    if (doc.status === 'draft') {
      const planned = await plan(doc, req.body);
      doc = (await repos.imports.claim(doc._id, { by: actor, at: new Date(), recommendations: planned }))!;
    }
    // Whoever claimed first decides what is created; this call completes it if it is not done yet.
    const created = await carryOut(doc, actor);
    if (doc.status !== 'confirmed') {
      await repos.imports.markConfirmed(doc._id);
      await repos.audit.record({ actor, action: 'import-confirmed', entity: { kind: 'import', id: doc._id }, details: { recommendations: created } });
    }
    res.json(await toOut((await repos.imports.get(doc._id))!));
  });

  /** Checks every chosen item as creation would, and says all that is wrong at once. */
  async function plan(doc: ProtocolImport, body: z.infer<typeof ConfirmBody>) {
    const drafts = doc.drafts as Drafts;
    const problems: Array<{ path: string; message: string }> = [];
    const planned: Array<{ n: number; id: string; input: NewRecommendation }> = [];
    const seen = new Set<number>();
    const source = body.source ?? (drafts.source ? sourceInput(drafts.source) : undefined);
    if (!source) problems.push({ path: 'body.source', message: 'документ-источник не найден в тексте — укажите вид, номер и дату' });
    for (const [i, item] of body.items.entries()) {
      const at = (field: string) => `body.items.${i}${field ? `.${field}` : ''}`;
      const draft = drafts.items.find((d) => d.n === item.n);
      if (!draft || seen.has(item.n)) {
        problems.push({ path: at('n'), message: draft ? `пункт ${item.n} указан дважды` : `в черновике нет пункта ${item.n}` });
        continue;
      }
      seen.add(item.n);
      const ownAddressees = item.assignees !== undefined || item.groups !== undefined;
      const deadline = item.deadline ?? draft.proposal.deadline;
      if (!deadline) {
        problems.push({ path: at('deadline'), message: `пункт ${item.n}: срок не распознан — укажите его` });
        continue;
      }
      const input: NewRecommendation = {
        source: source ?? { kind: 'letter', number: '-', date: doc.reference },
        text: item.text ?? draft.proposal.text,
        assignees: ownAddressees ? (item.assignees ?? []) : draft.proposal.assignees,
        groups: ownAddressees ? (item.groups ?? []) : draft.proposal.groups,
        deadline: deadline as NewRecommendation['deadline'],
        ...(item.policy ? { policy: item.policy } : {}),
      };
      try {
        const prepared = await recommendations.prepare(input);
        // Groups are taken as they are at confirmation: a resumed confirmation reaches the same organisations.
        planned.push({ n: item.n, id: `${doc._id}-${item.n}`, input: { ...input, assignees: prepared.assignees, groups: [] } });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        const details = Array.isArray(error.details) ? (error.details as Array<{ path: string; message: string }>) : [{ path: '', message: error.message }];
        for (const d of details) problems.push({ path: at(d.path.replace(/^body\.?/, '')), message: `пункт ${item.n}: ${d.message}` });
      }
    }
    if (problems.length > 0) throw new AppError(400, 'validation_failed', 'Проверьте черновики: не все пункты можно выдать', problems);
    return planned;
  }

  /** Creates what the confirmation recorded and is not there yet, then issues it all (idempotent). */
  async function carryOut(doc: ProtocolImport, actor: ActorRef) {
    const created: string[] = [];
    for (const { id, input } of doc.confirmation!.recommendations) {
      if (!(await repos.recommendations.get(id))) {
        try {
          await recommendations.create(input as NewRecommendation, doc.confirmation!.by, { id });
          await repos.audit.record({ actor, action: 'created', entity: { kind: 'recommendation', id }, details: { import: doc._id } });
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      }
      const rec = (await repos.recommendations.get(id))!;
      // Withdrawn between confirmation and now (a resumed confirmation): left as it is.
      if (rec.status !== 'withdrawn') await recommendations.issue(id, doc.confirmation!.by);
      created.push(id);
    }
    return created;
  }

  return router;
}
