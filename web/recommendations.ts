/**
 * Curators' recommendation pages: the list with filters, one recommendation with its assignments,
 * and the form that creates and issues one (addressees by group or one by one, the deadline with
 * the working-day rule shown, a recurrence). Registered on the web router, behind its session.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { FREQUENCIES } from '../domain/cycles';
import { calendarKnown, isoDateIn, resolveDeadline, type NonWorkingDayRule } from '../domain/deadline';
import { describeOffset, type NotificationPolicy } from '../domain/policy';
import { pluralRu } from '../domain/russian';
import { READ_ALL_ROLES, STAFF_ROLES, type Role } from '../domain/roles';
import { AppError, notFound } from '../api/errors';
import { russianErrors } from '../api/validate';
import { actorRef } from '../api/auth/middleware';
import { warningsKey, type NewRecommendation, type RecommendationService } from '../api/recommendations/service';
import { loadCalendar } from '../store/calendar';
import { loadDefaultPolicy } from '../store/policy';
import type { RecommendationStatus } from '../store/models';
import type { Repositories } from '../store/repositories';
import { FIRST_CYCLE } from '../domain/ids';
import { asArray, formOnce, FREQUENCY_RU, page, readPolicyJson } from './forms';
import { PAGE_SIZE, pageOf, pager } from './paging';
import { rowNames } from './report';
import { csrf } from './session';

const STATUS_RU: Record<RecommendationStatus, string> = { draft: 'черновик', issued: 'выдана', withdrawn: 'отозвана' };
const ListQuery = z.object({
  status: z.enum(['draft', 'issued', 'withdrawn']).optional().catch(undefined),
  organization: z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1),
});

const NewForm = z.object({
  kind: z.enum(['protocol', 'letter']),
  number: z.string().trim().min(1, 'укажите номер документа').max(50),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'укажите дату документа'),
  title: z.string().trim().max(500).default(''),
  text: z.string().trim().min(5, 'текст рекомендации слишком короткий').max(20_000),
  groups: z.preprocess(asArray, z.array(z.string().max(64)).max(50)),
  assignees: z.preprocess(asArray, z.array(z.string().max(64)).max(5000)),
  due: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'укажите срок'),
  recurrence: z.enum(['', 'yearly', 'quarterly', 'monthly']).default(''),
  policy: z.string().max(20_000).default(''),
});

/** The form's fields as their labels name them, for the messages about them. */
const NEW_FORM_FIELDS: Record<string, string> = {
  kind: 'Вид',
  number: 'Номер',
  date: 'Дата',
  title: 'Заголовок',
  text: 'Текст рекомендации',
  groups: 'Группы',
  assignees: 'Организации',
  due: 'Срок',
  recurrence: 'Повторение',
  policy: 'Политика',
};

export function describePolicy(policy: NotificationPolicy): string[] {
  const audience: Record<string, string> = { coordinator: 'координаторам', head: 'руководителю', curator: 'куратору', observers: 'наблюдателям' };
  const to = (t: string | string[]) => (Array.isArray(t) ? t : [t]).map((a) => audience[a] ?? a).join(', ');
  return [
    policy.remindBefore.length ? `Напоминания за ${policy.remindBefore.map(describeOffset).join(', ')} до срока` : 'Без напоминаний',
    ...policy.escalateAfter.map((s) => `Через ${describeOffset(s.after)} после срока — ${to(s.to)}`),
    ...(policy.repeat ? [`Затем каждые ${describeOffset(policy.repeat.every)} — ${to(policy.repeat.to)}, до ${policy.repeat.times} раз`] : []),
  ];
}

export function createRecommendationPages({
  repos,
  recommendations,
  timezone,
  rule,
  signedIn,
  only,
}: {
  repos: Repositories;
  recommendations: RecommendationService;
  timezone: string;
  rule: NonWorkingDayRule;
  signedIn: RequestHandler;
  only: (...roles: readonly Role[]) => RequestHandler;
}) {
  const router = Router();

  router.get(
    '/recommendations',
    signedIn,
    only(...READ_ALL_ROLES),
    page(async (req, res) => {
      const query = ListQuery.parse(req.query);
      const { items, total } = await repos.recommendations.list(
        { status: query.status, ...(query.organization ? { assignee: query.organization } : {}) },
        { limit: PAGE_SIZE, offset: (query.page - 1) * PAGE_SIZE },
      );
      const orgs = await repos.organizations.directory();
      const counts = await repos.assignments.figuresFor(items.map((rec) => rec._id));
      const rows = items.map((rec) => ({
        rec,
        statusRu: STATUS_RU[rec.status],
        recurrence: rec.recurrence ? FREQUENCY_RU[rec.recurrence.frequency] : null,
        counts: counts.get(rec._id),
      }));
      res.render('recommendations', {
        title: 'Рекомендации',
        rows,
        total,
        status: query.status ?? '',
        organization: query.organization ?? '',
        organizations: orgs.map((o) => ({ code: o._id, name: o.name, selected: o._id === query.organization })),
        statuses: Object.entries(STATUS_RU).map(([value, label]) => ({ value, label, selected: value === query.status })),
        prev: query.page > 1 ? query.page - 1 : null,
        next: query.page * PAGE_SIZE < total ? query.page + 1 : null,
      });
    }),
  );

  router.get(
    '/recommendations/new',
    signedIn,
    only(...STAFF_ROLES),
    page(async (_req, res) => res.render('recommendation-new', await formData({}))),
  );

  /** Where a date's deadline falls by the calendar: the form shows it as the curator types. */
  router.get(
    '/deadline-preview',
    signedIn,
    only(...STAFF_ROLES),
    page(async (req, res) => {
      const date = String(req.query.date ?? '');
      const resolved = /^\d{4}-\d{2}-\d{2}$/.test(date) ? resolveDeadline(date, { timezone, calendar: await loadCalendar(repos), rule }) : undefined;
      if (!resolved) throw new AppError(400, 'bad_request', 'Нет такой даты');
      res.json({ nominal: date, dueDate: isoDateIn(resolved.due, timezone), moved: resolved.moved, calendarKnown: resolved.calendarKnown });
    }),
  );

  router.post(
    '/recommendations/new',
    signedIn,
    only(...STAFF_ROLES),
    csrf.csrfSynchronisedProtection,
    formOnce(repos),
    page(async (req, res) => {
      const form = NewForm.safeParse(req.body, { error: russianErrors });
      if (!form.success) {
        const errors = form.error.issues.map((i) => `${NEW_FORM_FIELDS[String(i.path[0])] ?? 'Форма'}: ${i.message}`);
        res.status(400).render('recommendation-new', await formData(req.body, errors));
        return;
      }
      const f = form.data;
      // The policy: the default when left empty, otherwise the JSON typed, checked as the API checks it.
      const typed = f.policy.trim() ? readPolicyJson(f.policy) : undefined;
      if (typed && 'errors' in typed) {
        res.status(400).render('recommendation-new', await formData(req.body, typed.errors));
        return;
      }
      const policy = typed?.policy;
      const input: NewRecommendation = {
        source: { kind: f.kind, number: f.number, date: f.date, ...(f.title ? { title: f.title } : {}) },
        text: f.text,
        assignees: f.assignees,
        groups: f.groups,
        deadline: { due: f.due, ...(f.recurrence ? { recurrence: { frequency: f.recurrence } } : {}) },
        ...(policy ? { policy } : {}),
      };
      const actor = actorRef(req.actor!);
      try {
        // A document entered before, or a deadline past: shown, and issued only once confirmed.
        const warnings = await recommendations.warnings(input.source, [{ due: f.due, recurring: Boolean(f.recurrence) }]);
        if (warnings.length > 0 && (req.body as { acknowledge?: unknown }).acknowledge !== warningsKey(warnings)) {
          res.status(409).render('recommendation-new', { ...(await formData(req.body)), warnings, warningsKey: warningsKey(warnings) });
          return;
        }
        const rec = await recommendations.create(input, actor);
        await repos.audit.record({ actor, action: 'created', entity: { kind: 'recommendation', id: rec._id }, details: { via: 'page' } });
        const { assignments } = await recommendations.issue(rec._id, actor);
        req.session.flash = { kind: 'ok', text: `Рекомендация выдана ${assignments.length} ${pluralRu(assignments.length, ['адресату', 'адресатам', 'адресатам'])}` };
        res.redirect(303, `/recommendations/${encodeURIComponent(rec._id)}`);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        res.status(error.status).render('recommendation-new', await formData(req.body, [error.message]));
      }
    }),
  );

  /** A recommendation's card; after a refused withdrawal, its form again with the reason typed and why. */
  async function showCard(req: Request, res: Response, status = 200, withdrawal?: { reason: string; error: string }) {
    const rec = await repos.recommendations.get(String(req.params.id));
    if (!rec) throw notFound('Рекомендация не найдена');
    // One cycle (the latest unless ?cycle= names another) and one page of addressees at a time:
    // a recommendation to 2,300 addressees is not one 800 KB page.
    const cycles = rec.recurrence ? await repos.assignments.countsByCycle(rec._id) : [];
    const asked = Number(req.query.cycle);
    const cycle = cycles.find((c) => c.cycle === asked)?.cycle ?? cycles[0]?.cycle ?? FIRST_CYCLE;
    const at = pageOf(req);
    // Addressees in Russian alphabetical order of their names.
    const names = await rowNames(repos);
    const codes = names.org.ordered(rec.assignees, rec._id).slice(at.offset, at.offset + PAGE_SIZE);
    const [rows, orgs, counts, calendar] = await Promise.all([
      repos.assignments.ofAddressees(rec, cycle, codes),
      repos.organizations.list({ codes }),
      repos.assignments.figures(rec._id),
      loadCalendar(repos),
    ]);
    const nominal = rec.deadline.nominal ?? rec.deadline.input;
    const orgName = new Map(orgs.map((o) => [o._id, o.name]));
    res.status(status).render('recommendation', {
      title: 'Рекомендация',
      rec,
      statusRu: STATUS_RU[rec.status],
      recurrence: rec.recurrence ? FREQUENCY_RU[rec.recurrence.frequency] : null,
      policy: rec.policy ? describePolicy(rec.policy) : [],
      counts,
      cycles: cycles.map((c) => ({ ...c, current: c.cycle === cycle, link: `/recommendations/${encodeURIComponent(rec._id)}?cycle=${c.cycle}` })),
      rows: rows.map((a) => ({ ...a, organizationName: orgName.get(a.organization) ?? a.organization })),
      pager: pager(req, at, rec.assignees.length),
      canWithdraw: STAFF_ROLES.includes(req.actor!.role) && rec.status !== 'withdrawn',
      // The year whose production calendar the deadline was worked out without, if any.
      calendarUnknown: calendarKnown(nominal, isoDateIn(rec.deadline.due, timezone), calendar) ? null : nominal.slice(0, 4),
      withdrawal,
    });
  }
  router.get('/recommendations/:id', signedIn, only(...READ_ALL_ROLES), page(async (req, res) => showCard(req, res)));

  router.post(
    '/recommendations/:id/withdraw',
    signedIn,
    only(...STAFF_ROLES),
    csrf.csrfSynchronisedProtection,
    formOnce(repos),
    page(async (req, res) => {
      const id = String(req.params.id);
      const reason = String((req.body as { reason?: unknown }).reason ?? '').trim();
      try {
        if (reason.length < 3) throw new AppError(400, 'bad_request', 'Укажите причину отзыва');
        // Closing every open assignment cannot be undone: asked once more on the form itself.
        if ((req.body as { confirm?: unknown }).confirm !== 'on') throw new AppError(400, 'bad_request', 'Подтвердите отзыв: отметьте, что открытые поручения закроются');
        await recommendations.withdraw(id, reason.slice(0, 2000), actorRef(req.actor!));
        req.session.flash = { kind: 'ok', text: 'Рекомендация отозвана: открытые поручения закрыты' };
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500 || error.status === 404) throw error;
        return showCard(req, res, error.status, { reason, error: error.message });
      }
      res.redirect(303, `/recommendations/${encodeURIComponent(id)}`);
    }),
  );

  /** The form's choices (groups, organisations, the default policy) and what was typed, if anything. */
  async function formData(values: Record<string, unknown>, errors: string[] = []) {
    const [groups, orgs, policy] = await Promise.all([repos.groups.list(), repos.organizations.list(), loadDefaultPolicy(repos)]);
    const chosen = (name: string) => new Set(asArray(values[name]));
    const groupSet = chosen('groups');
    const orgSet = chosen('assignees');
    const memberCount = (code: string) => orgs.filter((o) => o.groups.includes(code)).length;
    return {
      title: 'Новая рекомендация',
      values: { kind: 'protocol', recurrence: '', ...values },
      errors,
      groups: groups.map((g) => ({ code: g._id, name: g.name, members: memberCount(g._id), checked: groupSet.has(g._id) })),
      organizations: orgs.map((o) => ({ code: o._id, name: o.name, checked: orgSet.has(o._id) })),
      frequencies: FREQUENCIES.filter((f) => f !== 'interval').map((f) => ({ value: f, label: FREQUENCY_RU[f] })),
      policy: describePolicy(policy),
      policyJson: JSON.stringify(policy, null, 2),
      rule: rule === 'previous' ? 'предыдущий' : 'следующий',
    };
  }

  return router;
}
