/**
 * The administrator's pages: organisations and their contacts, users and roles, organisation
 * groups, the default notification policy, the production calendar's years, and the email delivery
 * log with resending. Each write goes through the same function as its JSON API route (checks and
 * audit included); a refused form comes back with the reasons in Russian and what was typed.
 */
import type { Client } from '@temporalio/client';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { ROLES, type Role } from '../domain/roles';
import { actorRef } from '../api/auth/middleware';
import { CalendarYearBody, removeCalendarYear, saveCalendarYear } from '../api/calendar/router';
import { AppError, notFound } from '../api/errors';
import { GroupBody, saveGroup } from '../api/groups/router';
import { OrganizationBody, createOrganization, updateOrganization } from '../api/organizations/router';
import { startResend } from '../api/outbox/router';
import { saveDefaultPolicy } from '../api/policy/router';
import { UserBody, UserPatch, addUser, updateUser } from '../api/users/router';
import { russianErrors } from '../api/validate';
import { knownCalendarYears } from '../store/calendar';
import type { DigestRunStatus } from '../store/digest-runs';
import { ORGANIZATION_KINDS } from '../store/models';
import { loadDefaultPolicy } from '../store/policy';
import type { Repositories } from '../store/repositories';
import { describePolicy } from './recommendations';
import { asArray, formOnce, page, readPolicyJson } from './forms';
import { PAGE_SIZE, pageOf, pager } from './paging';
import { csrf } from './session';

const KIND_RU: Record<string, string> = {
  authority: 'орган-отправитель',
  department: 'департамент',
  municipality: 'муниципальное образование',
  regional: 'региональная организация',
  center: 'центр',
  rvci: 'РВЦИ',
  other: 'другая',
};
const OUTBOX_STATUS_RU: Record<string, string> = { pending: 'ожидает', sent: 'отправлено', failed: 'ошибка' };
const DIGEST_STATUS_RU: Record<DigestRunStatus, string> = { running: 'рассылается', sent: 'разослана', missed: 'не разослана' };
/** Weeks of the curator digest shown above the email log. */
const DIGEST_WEEKS_SHOWN = 8;

/** Lines of a textarea: trimmed, empty ones dropped. */
const lines = (value: unknown) =>
  String(value ?? '')
    .split(/[\r\n,;]+/)
    .map((l) => l.trim())
    .filter(Boolean);

/** Zod's issues as sentences a person reads: «Контакты: неверный адрес электронной почты». */
function problems(error: z.ZodError, labels: Record<string, string> = {}): string[] {
  return error.issues.map((i) => `${labels[String(i.path[0])] ?? String(i.path[0] ?? 'Форма')}: ${i.message}`);
}

/** Runs a write; a refusal a person can act on (4xx other than 404) comes back instead of thrown. */
async function attempt(write: () => Promise<unknown>): Promise<AppError | undefined> {
  try {
    await write();
    return undefined;
  } catch (error) {
    if (error instanceof AppError && error.status >= 400 && error.status < 500 && error.status !== 404) return error;
    throw error;
  }
}

export function createAdminPages({
  repos,
  temporal,
  taskQueue,
  signedIn,
  only,
}: {
  repos: Repositories;
  temporal: Client;
  taskQueue: string;
  signedIn: RequestHandler;
  only: (...roles: readonly Role[]) => RequestHandler;
}) {
  const router = Router();
  const admin = [signedIn, only('admin')];
  const write = [...admin, csrf.csrfSynchronisedProtection, formOnce(repos)];
  const actor = (req: Request) => actorRef(req.actor!);
  const done = (req: Request, res: Response, text: string, to: string) => {
    req.session.flash = { kind: 'ok', text };
    res.redirect(303, to);
  };

  router.get('/admin', ...admin, (_req, res) => res.render('admin/index', { title: 'Администрирование' }));

  // --- organisations ---------------------------------------------------------------------------------

  const ORG_LABELS = { code: 'Код', name: 'Название', kind: 'Вид', groups: 'Группы', contacts: 'Контакты' };
  async function orgsPage(res: Response, status = 200, extra: Record<string, unknown> = {}) {
    const [orgs, groups] = await Promise.all([repos.organizations.list(), repos.groups.list()]);
    const groupName = new Map(groups.map((g) => [g._id, g.name]));
    res.status(status).render('admin/organizations', {
      title: 'Организации',
      orgs: orgs.map((o) => ({ ...o, kindRu: KIND_RU[o.kind], groupNames: o.groups.map((code) => groupName.get(code) ?? code) })),
      kinds: ORGANIZATION_KINDS.map((k) => ({ value: k, label: KIND_RU[k] })),
      groups: groups.map((g) => ({ code: g._id, name: g.name })),
      ...extra,
    });
  }
  const orgInput = (body: Record<string, unknown>, code?: string) => ({
    code: code ?? String(body.code ?? '').trim(),
    name: String(body.name ?? ''),
    kind: String(body.kind ?? ''),
    groups: asArray(body.groups),
    contacts: { coordinator: lines(body.coordinator), head: lines(body.head) },
  });

  router.get('/admin/organizations', ...admin, page(async (_req, res) => orgsPage(res)));
  router.post(
    '/admin/organizations',
    ...write,
    page(async (req, res) => {
      const parsed = OrganizationBody.safeParse(orgInput(req.body), { error: russianErrors });
      if (!parsed.success) return orgsPage(res, 400, { errors: problems(parsed.error, ORG_LABELS), values: req.body });
      const refused = await attempt(() => createOrganization(repos, parsed.data, actor(req)));
      if (refused) return orgsPage(res, refused.status, { errors: [refused.message], values: req.body });
      done(req, res, `Организация «${parsed.data.name}» добавлена`, '/admin/organizations');
    }),
  );
  /** An organisation's form: as stored, or as sent when it was refused (with the reasons). */
  async function orgPage(res: Response, code: string, refused?: { status: number; errors: string[]; values: Record<string, unknown> }) {
    const org = await repos.organizations.get(code);
    if (!org) throw notFound('Организация не найдена');
    const [groups, people] = await Promise.all([repos.groups.list(), repos.users.list({ organization: code })]);
    // Who the emails about its assignments reach: the stored addresses and its active executors.
    const executors = people.filter((u) => u.role === 'executor' && u.active);
    const sent = refused ? orgInput(refused.values, code) : undefined;
    const shown = { name: sent?.name ?? org.name, kind: sent?.kind ?? org.kind, groups: sent?.groups ?? org.groups, contacts: sent?.contacts ?? org.contacts };
    res.status(refused?.status ?? 200).render('admin/organization', {
      title: org.name,
      org,
      name: shown.name,
      kinds: ORGANIZATION_KINDS.map((k) => ({ value: k, label: KIND_RU[k], selected: k === shown.kind })),
      groups: groups.map((g) => ({ code: g._id, name: g.name, checked: shown.groups.includes(g._id) })),
      // As typed when refused: a bad address stays for its author to mend.
      coordinator: refused ? String(refused.values.coordinator ?? '') : shown.contacts.coordinator.join('\n'),
      head: refused ? String(refused.values.head ?? '') : shown.contacts.head.join('\n'),
      recipients: {
        coordinator: [...org.contacts.coordinator.map((email) => ({ email, label: 'координатор' })), ...executors.map((u) => ({ email: u.email, label: `исполнитель, ${u.name}` }))],
        head: org.contacts.head,
      },
      errors: refused?.errors,
    });
  }
  router.get('/admin/organizations/:code', ...admin, page(async (req, res) => orgPage(res, String(req.params.code))));
  router.post(
    '/admin/organizations/:code',
    ...write,
    page(async (req, res) => {
      const code = String(req.params.code);
      const parsed = OrganizationBody.safeParse(orgInput(req.body, code), { error: russianErrors });
      if (!parsed.success) return orgPage(res, code, { status: 400, errors: problems(parsed.error, ORG_LABELS), values: req.body });
      const { code: _code, ...patch } = parsed.data;
      await updateOrganization(repos, code, patch, actor(req));
      done(req, res, 'Сохранено', `/admin/organizations/${encodeURIComponent(code)}`);
    }),
  );

  // --- users -----------------------------------------------------------------------------------------------

  async function usersPage(res: Response, status = 200, extra: Record<string, unknown> = {}) {
    const [users, orgs] = await Promise.all([repos.users.list(), repos.organizations.list()]);
    const orgName = new Map(orgs.map((o) => [o._id, o.name]));
    res.status(status).render('admin/users', {
      title: 'Пользователи',
      users: users.map((u) => ({ ...u, organizationName: u.organization ? (orgName.get(u.organization) ?? u.organization) : '' })),
      roles: ROLES.map((r) => ({ value: r })),
      orgs: orgs.map((o) => ({ code: o._id, name: o.name })),
      ...extra,
    });
  }
  router.get('/admin/users', ...admin, page(async (_req, res) => usersPage(res)));
  router.post(
    '/admin/users',
    ...write,
    page(async (req, res) => {
      const body = req.body as Record<string, string>;
      const input = { email: body.email, name: body.name, password: body.password, role: body.role, ...(body.organization ? { organization: body.organization } : {}) };
      const parsed = UserBody.safeParse(input, { error: russianErrors });
      const values = { ...body, password: '' };
      if (!parsed.success) return usersPage(res, 400, { errors: problems(parsed.error, { email: 'Почта', name: 'Имя', password: 'Пароль', role: 'Роль', organization: 'Организация' }), values });
      const refused = await attempt(() => addUser(repos, parsed.data, actor(req)));
      if (refused) return usersPage(res, refused.status, { errors: [refused.message], values });
      done(req, res, `Пользователь ${parsed.data.email} создан`, '/admin/users');
    }),
  );

  /** A user's form: as stored, or as sent when it was refused (the password never comes back). */
  async function userPage(res: Response, id: string, refused?: { status: number; errors: string[]; values: Record<string, string | undefined> }) {
    const user = await repos.users.get(id);
    if (!user) throw notFound('Пользователь не найден');
    const orgs = await repos.organizations.list();
    const sent = refused?.values;
    const shown = sent
      ? { name: sent.name ?? '', role: sent.role, organization: sent.organization || undefined, active: sent.active === 'on' }
      : { name: user.name, role: user.role, organization: user.organization, active: user.active };
    res.status(refused?.status ?? 200).render('admin/user', {
      title: user.email,
      u: { ...user, ...shown },
      roles: ROLES.map((r) => ({ value: r, selected: r === shown.role })),
      orgs: orgs.map((o) => ({ code: o._id, name: o.name, selected: o._id === shown.organization })),
      errors: refused?.errors,
    });
  }
  router.get('/admin/users/:id', ...admin, page(async (req, res) => userPage(res, String(req.params.id))));
  router.post(
    '/admin/users/:id',
    ...write,
    page(async (req, res) => {
      const id = String(req.params.id);
      const body = req.body as Record<string, string | undefined>;
      const to = `/admin/users/${encodeURIComponent(id)}`;
      const parsed = UserPatch.safeParse(
        { name: body.name, role: body.role, organization: body.organization ? body.organization : null, active: body.active === 'on', ...(body.password ? { password: body.password } : {}) },
        { error: russianErrors },
      );
      if (!parsed.success) {
        return userPage(res, id, { status: 400, errors: problems(parsed.error, { name: 'Имя', role: 'Роль', organization: 'Организация', password: 'Пароль' }), values: body });
      }
      let active = true;
      const refused = await attempt(async () => ({ active } = await updateUser(repos, id, parsed.data, actor(req))));
      if (refused) return userPage(res, id, { status: refused.status, errors: [refused.message], values: body });
      done(req, res, `Сохранено${active ? '' : ': доступ закрыт'}`, to);
    }),
  );

  // --- groups ----------------------------------------------------------------------------------------------

  router.get(
    '/admin/groups',
    ...admin,
    page(async (_req, res) => {
      const [groups, orgs] = await Promise.all([repos.groups.list(), repos.organizations.list()]);
      res.render('admin/groups', {
        title: 'Группы организаций',
        groups: groups.map((g) => ({ ...g, members: orgs.filter((o) => o.groups.includes(g._id)).length })),
      });
    }),
  );
  /** A group's form (a new one's when `creating`): as stored, or as sent when it was refused. */
  async function groupPage(res: Response, code: string, creating: boolean, refused?: { status: number; errors: string[]; values: Record<string, unknown> }) {
    const [group, orgs] = await Promise.all([repos.groups.get(code), repos.organizations.list()]);
    if (!group && !creating) throw notFound('Группа не найдена');
    const sent = refused?.values;
    const members = sent ? new Set(asArray(sent.members)) : undefined;
    res.status(refused?.status ?? 200).render('admin/group', {
      title: group?.name ?? 'Новая группа',
      code,
      group: { name: sent ? String(sent.name ?? '') : (group?.name ?? '') },
      phrases: sent ? String(sent.phrases ?? '') : (group?.phrases ?? []).join('\n'),
      orgs: orgs.map((o) => ({ code: o._id, name: o.name, checked: members ? members.has(o._id) : o.groups.includes(code) })),
      errors: refused?.errors,
    });
  }
  router.get('/admin/groups/:code', ...admin, page(async (req, res) => groupPage(res, String(req.params.code), req.query.new !== undefined)));
  router.post('/admin/groups', ...write, (req, res) => {
    const code = String((req.body as { code?: unknown }).code ?? '').trim();
    res.redirect(303, `/admin/groups/${encodeURIComponent(code)}?new`);
  });
  router.post(
    '/admin/groups/:code',
    ...write,
    page(async (req, res) => {
      const code = String(req.params.code);
      const body = req.body as Record<string, unknown>;
      const parsed = GroupBody.safeParse({ name: body.name, phrases: lines(body.phrases), members: asArray(body.members) }, { error: russianErrors });
      if (!parsed.success || !/^[a-z0-9][a-z0-9-]{1,63}$/.test(code)) {
        const errors = parsed.success ? ['Код: латинские строчные буквы, цифры и дефис'] : problems(parsed.error, { name: 'Название', phrases: 'Фразы', members: 'Состав' });
        return groupPage(res, code, true, { status: 400, errors, values: body });
      }
      const { name, phrases, members = [] } = parsed.data;
      await saveGroup(repos, code, { name, phrases, members }, actor(req));
      done(req, res, `Группа «${name}» сохранена: ${members.length} орг.`, `/admin/groups/${encodeURIComponent(code)}`);
    }),
  );

  // --- the default policy ----------------------------------------------------------------------------------

  router.get(
    '/admin/policy',
    ...admin,
    page(async (_req, res) => {
      const policy = await loadDefaultPolicy(repos);
      res.render('admin/policy', { title: 'Политика уведомлений', json: JSON.stringify(policy, null, 2), described: describePolicy(policy) });
    }),
  );
  router.post(
    '/admin/policy',
    ...write,
    page(async (req, res) => {
      const text = String((req.body as { policy?: unknown }).policy ?? '');
      const typed = readPolicyJson(text);
      if ('errors' in typed) return void res.status(400).render('admin/policy', { title: 'Политика уведомлений', json: text, errors: typed.errors });
      await saveDefaultPolicy(repos, typed.policy, actor(req));
      done(req, res, 'Политика по умолчанию сохранена: она действует для рекомендаций, созданных с этого момента', '/admin/policy');
    }),
  );

  // --- the production calendar -------------------------------------------------------------------------------

  async function calendarPage(res: Response, status = 200, extra: Record<string, unknown> = {}) {
    const years = await knownCalendarYears(repos);
    res.status(status).render('admin/calendar', {
      title: 'Производственный календарь',
      years: years.map((y) => ({ year: y.entry.year, source: y.entry.source, added: y.origin === 'added', daysOff: y.entry.daysOff.length, workingWeekends: y.entry.workingWeekends.length })).reverse(),
      ...extra,
    });
  }
  router.get('/admin/calendar', ...admin, page(async (_req, res) => calendarPage(res)));
  router.post(
    '/admin/calendar',
    ...write,
    page(async (req, res) => {
      const body = req.body as Record<string, unknown>;
      const year = Number(body.year);
      const parsed = CalendarYearBody.safeParse({ source: body.source, daysOff: lines(body.daysOff), workingWeekends: lines(body.workingWeekends) }, { error: russianErrors });
      const values = body;
      if (!Number.isInteger(year) || year < 1970 || year > 9999) return calendarPage(res, 400, { errors: ['Год: четыре цифры'], values });
      if (!parsed.success) return calendarPage(res, 400, { errors: problems(parsed.error, { source: 'Основание', daysOff: 'Нерабочие дни', workingWeekends: 'Рабочие выходные' }), values });
      const refused = await attempt(() => saveCalendarYear(repos, year, parsed.data, actor(req)));
      if (refused) return calendarPage(res, refused.status, { errors: [`Календарь не сходится: ${refused.message}`], values });
      done(req, res, `Календарь на ${year} год сохранён`, '/admin/calendar');
    }),
  );
  router.post(
    '/admin/calendar/:year/delete',
    ...write,
    page(async (req, res) => {
      const year = Number(req.params.year);
      await removeCalendarYear(repos, year, actor(req));
      done(req, res, `Добавленный календарь на ${year} год удалён`, '/admin/calendar');
    }),
  );

  // --- the email log ---------------------------------------------------------------------------------------------

  router.get(
    '/admin/outbox',
    ...admin,
    page(async (req, res) => {
      const status = ['pending', 'sent', 'failed'].includes(String(req.query.status)) ? (String(req.query.status) as 'pending' | 'sent' | 'failed') : undefined;
      // A page at a time, as every long list: the log keeps every email ever sent.
      const at = pageOf(req);
      const [{ items, total }, digestRuns] = await Promise.all([repos.outbox.list({ status }, { limit: PAGE_SIZE, offset: at.offset }), repos.digestRuns.latest(DIGEST_WEEKS_SHOWN)]);
      res.render('admin/outbox', {
        title: 'Журнал писем',
        total,
        pager: pager(req, at, total),
        digestRuns: digestRuns.map((r) => ({ ...r, statusRu: DIGEST_STATUS_RU[r.status], missed: r.status === 'missed' })),
        statuses: Object.entries(OUTBOX_STATUS_RU).map(([value, label]) => ({ value, label, selected: value === status })),
        items: items.map((e) => ({ ...e, statusRu: OUTBOX_STATUS_RU[e.status] })),
      });
    }),
  );
  router.post(
    '/admin/outbox/resend',
    ...write,
    page(async (req, res) => {
      const key = String((req.body as { key?: unknown }).key ?? '');
      const entry = await repos.outbox.get(key);
      if (!entry) throw notFound('Письмо не найдено в журнале');
      await startResend({ repos, temporal, taskQueue }, entry, actor(req));
      done(req, res, `Письмо «${entry.subject}» отправляется повторно`, '/admin/outbox');
    }),
  );

  return router;
}
