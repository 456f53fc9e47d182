import { Router } from 'express';
import { z } from 'zod';
import { FREQUENCIES, MIN_INTERVAL_SECONDS, currentCycle, cycleAt, recurringDeadlineOf, type Cycle } from '../../domain/cycles';
import { calendarKnown, isoDateIn, type NonWorkingDayRule } from '../../domain/deadline';
import type { WorkingCalendar } from '../../domain/calendar';
import { loadCalendar } from '../../store/calendar';
import { ORG_CODE_PATTERN, RECOMMENDATION_ID_PATTERN } from '../../domain/ids';
import { ROLES, STAFF_ROLES, type Actor } from '../../domain/roles';
import { SOURCE_KINDS, type Recommendation } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import { notFound } from '../errors';
import type { ApiDocs } from '../openapi';
import { durationPattern, OffsetSchema, PolicyOut, PolicySchema, StoredOffset } from '../policy/schema';
import { deadlineInput, isoDate, pagination, validate, text } from '../validate';
import type { RecommendationService } from './service';


const leadTime = OffsetSchema.optional().meta({ description: 'За сколько до срока появляется поручение цикла (по умолчанию — один период)' });
export const RecurrenceSchema = z
  .discriminatedUnion('frequency', [
    z.strictObject({
      frequency: z.enum(FREQUENCIES.filter((f) => f !== 'interval') as ['yearly', 'quarterly', 'monthly']).meta({ description: 'yearly, quarterly, monthly' }),
      leadTime,
    }),
    z.strictObject({
      frequency: z.literal('interval').meta({ description: 'Через every (для проверки и демонстрации)' }),
      every: z
        .string({ error: (issue) => (issue.input === undefined ? `для повторения с интервалом укажите every — длительность ISO 8601 (например, PT30S)` : undefined) })
        .regex(durationPattern({ nonZero: true, minSeconds10: true }), `интервал повторения — не меньше ${MIN_INTERVAL_SECONDS} секунд, длительность ISO 8601 одной единицей (например, PT30S)`),
      leadTime,
    }),
  ])
  .meta({ id: 'Recurrence' });
const RecurrenceOut = z.object({
  frequency: z.enum(FREQUENCIES),
  every: z.string().nullable(),
  leadTime: StoredOffset,
  monthEnd: z.boolean(),
});
const CycleOut = z.object({ cycle: z.number(), period: z.string(), due: z.string(), appearsAt: z.string() });

export const RecommendationBody = z.strictObject({
  source: z.strictObject({
    kind: z.enum(SOURCE_KINDS),
    number: text({ min: 1, max: 50 }),
    date: isoDate,
    title: text({ max: 500 }).optional(),
    issuer: text({ min: 2, max: 300 }).optional(),
  }),
  text: text({ min: 5, max: 20_000, message: 'текст рекомендации слишком короткий' }),
  assignees: z
    .array(z.string().regex(ORG_CODE_PATTERN, 'неверный код организации'))
    .max(5000)
    .optional()
    .meta({ description: 'Адресаты по одному; вместе с groups — хотя бы один' }),
  groups: z
    .array(z.string().regex(ORG_CODE_PATTERN, 'неверный код группы'))
    .max(50)
    .optional()
    .meta({ description: 'Группы адресатов: выдаётся всем организациям группы, какие в ней сейчас' }),
  deadline: z.strictObject({
    due: deadlineInput('срок: ГГГГ-ММ-ДД или дата-время ISO 8601 с секундами и смещением, год до 2100').meta({ description: 'Срок; для повторяющейся рекомендации — срок первого цикла' }),
    recurrence: RecurrenceSchema.optional(),
  }),
  /** Reminders and escalation; the administrator's default when absent. */
  policy: PolicySchema.optional(),
})
  .refine((body) => (body.assignees?.length ?? 0) + (body.groups?.length ?? 0) > 0, {
    message: 'нужен хотя бы один адресат: организации или группа',
    path: ['assignees'],
  })
  // The same rule in the document: assignees or groups, at least one of them not empty.
  .meta({ anyOf: [{ required: ['assignees'], properties: { assignees: { minItems: 1 } } }, { required: ['groups'], properties: { groups: { minItems: 1 } } }] });
const IdParams = z.object({ id: z.string().regex(RECOMMENDATION_ID_PATTERN, 'неверный идентификатор') });
const WithdrawBody = z.strictObject({ reason: text({ min: 3, max: 2000, message: 'укажите причину отзыва' }) });
const ListQuery = z.strictObject({ status: z.enum(['draft', 'issued', 'withdrawn']).optional(), ...pagination });

const Counts = z.object({
  total: z.number(),
  issued: z.number(),
  submitted: z.number(),
  returned: z.number(),
  accepted: z.number(),
  withdrawn: z.number(),
  overdue: z.number(),
});
export const RecommendationOut = z
  .object({
    id: z.string(),
    status: z.enum(['draft', 'issued', 'withdrawn']),
    source: z.object({ kind: z.enum(SOURCE_KINDS), issuer: z.string(), number: z.string(), date: z.string(), title: z.string() }),
    text: z.string(),
    assignees: z.array(z.string()),
    deadline: z.object({
      due: z.string(),
      input: z.string(),
      /** The date as written; due is the end of another day when that one was not a working day. */
      nominal: z.string(),
      moved: z.boolean(),
      calendarKnown: z.boolean().meta({ description: 'false: производственного календаря на год срока нет, нерабочими считаются только выходные' }),
    }),
    policy: PolicyOut.optional().meta({ description: 'Только для сотрудников' }),
    recurrence: RecurrenceOut.nullable(),
    cycles: z
      .object({
        current: CycleOut,
        next: CycleOut,
        issued: z.array(z.object({ cycle: z.number(), period: z.string().nullable(), counts: Counts })).meta({ description: 'Выданные циклы, последний первым, с числом поручений в каждом состоянии' }),
      })
      .nullable()
      .optional()
      .meta({ description: 'Для повторяющейся: текущий цикл и следующий (только в карточке рекомендации)' }),
    createdAt: z.string(),
    issuedAt: z.string().nullable(),
    withdrawal: z.object({ reason: z.string(), at: z.string() }).nullable(),
    counts: Counts.optional(),
  })
  .meta({ id: 'Recommendation' });

/** How a deadline is shown: which calendar years are known, and in which zone its day is. */
interface DeadlineContext {
  calendar: Pick<WorkingCalendar, 'covers'>;
  timezone: string;
}

function toOut(rec: Recommendation, actor: Actor, { calendar, timezone }: DeadlineContext) {
  const nominal = rec.deadline.nominal ?? rec.deadline.input;
  return {
    id: rec._id,
    status: rec.status,
    source: { kind: rec.source.kind, issuer: rec.source.issuer, number: rec.source.number, date: rec.source.date, title: rec.source.title },
    text: rec.text,
    // An executor learns only that its own organisation is addressed.
    assignees: actor.role === 'executor' ? rec.assignees.filter((code) => code === actor.organization) : rec.assignees,
    deadline: {
      due: rec.deadline.due.toISOString(),
      input: rec.deadline.input,
      // Records made before the working-day rule kept the deadline as written.
      nominal,
      moved: rec.deadline.moved ?? false,
      calendarKnown: calendarKnown(nominal, isoDateIn(rec.deadline.due, timezone), calendar),
    },
    // How the addressee will be chased is staff business; an executor sees only the deadline.
    ...(actor.role === 'executor' || !rec.policy ? {} : { policy: rec.policy }),
    recurrence: rec.recurrence
      ? { frequency: rec.recurrence.frequency, every: rec.recurrence.every ?? null, leadTime: rec.recurrence.leadTime, monthEnd: rec.recurrence.monthEnd }
      : null,
    createdAt: (rec.createdAt ?? new Date(0)).toISOString(),
    issuedAt: rec.issuedAt?.toISOString() ?? null,
    withdrawal: rec.withdrawal && rec.withdrawnAt ? { reason: rec.withdrawal.reason, at: rec.withdrawnAt.toISOString() } : null,
  };
}

/** What an actor may see: staff and observers everything, executors issued items addressed to them. */
export function canSee(rec: Recommendation, actor: Actor): boolean {
  if (actor.role !== 'executor') return true;
  // Issued at some point, not merely not a draft: a draft withdrawn unissued was never addressed.
  return rec.issuedAt !== undefined && rec.issuedAt !== null && rec.assignees.includes(actor.organization ?? '');
}

export function createRecommendationsRouter({
  repos,
  service,
  docs,
  cycleContext,
}: {
  repos: Repositories;
  service: RecommendationService;
  docs: ApiDocs;
  cycleContext: { timezone: string; rule: NonWorkingDayRule };
}) {
  const router = Router();

  const deadlineContext = async (): Promise<DeadlineContext> => ({ calendar: await loadCalendar(repos), timezone: cycleContext.timezone });

  /** A recurring recommendation's cycle under way (or about to be issued) and the next one. */
  async function cyclesOf(rec: Recommendation) {
    const deadline = recurringDeadlineOf(rec);
    if (!deadline) return null;
    const context = { calendar: await loadCalendar(repos), timezone: cycleContext.timezone, rule: cycleContext.rule };
    const current = currentCycle(deadline, new Date(), context);
    const next = cycleAt(deadline, current.cycle + 1, context);
    const out = (c: Cycle) => ({ cycle: c.cycle, period: c.period, due: c.due.toISOString(), appearsAt: c.appearsAt.toISOString() });
    return { current: out(current), next: out(next) };
  }

  docs.route('post', '/api/recommendations', {
    summary: 'Создать рекомендацию (черновик)',
    tag: 'Рекомендации',
    roles: STAFF_ROLES,
    body: RecommendationBody,
    response: { status: 201, description: 'Черновик создан', schema: z.object({ id: z.string(), status: z.literal('draft') }) },
    errors: [409],
  });
  router.post('/', requireRole(...STAFF_ROLES), validate({ body: RecommendationBody }), async (req, res) => {
    const actor = actorOf(req);
    const rec = await service.create(req.body, actorRef(actor));
    await repos.audit.record({ actor: actorRef(actor), action: 'created', entity: { kind: 'recommendation', id: rec._id }, details: {} });
    res.status(201).json({ ...toOut(rec, actor, await deadlineContext()), id: rec._id, status: rec.status });
  });

  docs.route('post', '/api/recommendations/{id}/issue', {
    summary: 'Выдать рекомендацию адресатам (повторный вызов возвращает те же поручения)',
    tag: 'Рекомендации',
    roles: STAFF_ROLES,
    params: IdParams,
    response: {
      description: 'Выдана',
      schema: z.object({
        id: z.string(),
        status: z.literal('issued'),
        assignments: z.array(z.object({ id: z.string(), organization: z.string(), cycle: z.number(), period: z.string().nullable(), due: z.string() })),
      }),
    },
    errors: [404, 409],
  });
  router.post('/:id/issue', requireRole(...STAFF_ROLES), validate({ params: IdParams }), async (req, res) => {
    const actor = actorOf(req);
    const { rec, assignments } = await service.issue(req.params.id, actorRef(actor));
    res.json({
      id: rec._id,
      status: rec.status,
      assignments: assignments.map((a) => ({ ...a, due: a.due.toISOString() })),
    });
  });

  docs.route('post', '/api/recommendations/{id}/withdraw', {
    summary: 'Отозвать рекомендацию: все открытые поручения по ней закрываются',
    tag: 'Рекомендации',
    roles: STAFF_ROLES,
    params: IdParams,
    body: WithdrawBody,
    response: { description: 'Отозвана', schema: RecommendationOut },
    errors: [404, 409],
  });
  router.post('/:id/withdraw', requireRole(...STAFF_ROLES), validate({ params: IdParams, body: WithdrawBody }), async (req, res) => {
    const actor = actorOf(req);
    const rec = await service.withdraw(req.params.id, req.body.reason, actorRef(actor));
    res.json(toOut(rec, actor, await deadlineContext()));
  });

  docs.route('get', '/api/recommendations', {
    summary: 'Список рекомендаций (исполнитель видит выданные его организации)',
    tag: 'Рекомендации',
    roles: ROLES,
    query: ListQuery,
    response: { description: 'Рекомендации', schema: z.object({ items: z.array(RecommendationOut), total: z.number() }) },
  });
  router.get('/', validate({ query: ListQuery }), async (req, res) => {
    const actor = actorOf(req);
    const { status, limit, offset } = req.query;
    const filter =
      actor.role === 'executor'
        ? { status, assignee: actor.organization ?? '', excludeDrafts: true }
        : { status };
    if (actor.role === 'executor' && status === 'draft') return void res.json({ items: [], total: 0 });
    const { items, total } = await repos.recommendations.list(filter, { limit, offset });
    const context = await deadlineContext();
    res.json({ items: items.map((rec) => toOut(rec, actor, context)), total });
  });

  docs.route('get', '/api/recommendations/{id}', {
    summary: 'Рекомендация с числом поручений в каждом состоянии',
    tag: 'Рекомендации',
    roles: ROLES,
    params: IdParams,
    response: { description: 'Рекомендация', schema: RecommendationOut },
    errors: [404],
  });
  router.get('/:id', validate({ params: IdParams }), async (req, res) => {
    const actor = actorOf(req);
    const rec = await repos.recommendations.get(req.params.id);
    if (!rec || !canSee(rec, actor)) throw notFound('Рекомендация не найдена');
    const counts = await repos.assignments.countsByState(rec._id, actor.role === 'executor' ? actor.organization : undefined);
    const organization = actor.role === 'executor' ? actor.organization : undefined;
    const cycles = await cyclesOf(rec);
    res.json({ ...toOut(rec, actor, await deadlineContext()), counts, cycles: cycles && { ...cycles, issued: await repos.assignments.countsByCycle(rec._id, organization) } });
  });

  return router;
}
