/**
 * Access control, cell by cell: every route is called as every role (anonymous, admin, curator,
 * observer, the assignment's own executor, another organisation's executor) and must answer
 * exactly the expected status. Calls that pass the gate act on fixtures of their own, so one
 * cell's state change never decides another cell's outcome; refused calls aim at fixtures in the
 * state where the call would succeed, so a broken gate shows up as a success, not as a 409.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { eventually, PASSWORD, startHarness, type Harness, type HttpResult } from '../support/harness';

type Role = 'anonymous' | 'admin' | 'curator' | 'observer' | 'executor' | 'otherExecutor';
type SignedIn = Exclude<Role, 'anonymous'>;

const ROLES: Role[] = ['anonymous', 'admin', 'curator', 'observer', 'executor', 'otherExecutor'];
const WHO: Record<Role, string> = {
  anonymous: 'an anonymous caller',
  admin: 'the admin',
  curator: 'a curator',
  observer: 'an observer',
  executor: "the assignment's own executor (org-a)",
  otherExecutor: 'an executor of another organisation (org-b)',
};
const EMAIL: Record<SignedIn, string> = {
  admin: 'admin@kontrol.test',
  curator: 'curator@kontrol.test',
  observer: 'observer@kontrol.test',
  executor: 'executor@org-a.test',
  otherExecutor: 'executor@org-b.test',
};

let h: Harness;
let tokens: Record<SignedIn, string>;

interface Fixtures {
  /** Addressed to org-a and org-c; org-a's assignment is submitted with one file. */
  base: { recommendationId: string; assignmentId: string; fileUrl: string };
  /** An org-a assignment left as issued: the target of refused submissions and extension requests. */
  open: string;
  /** An org-a assignment with an extension request waiting: the target of refused decisions. */
  pending: string;
  /** A draft addressed to org-a: the target of refused issue and withdraw calls. */
  draft: string;
  /** Issued to org-b and org-c only: org-a's executor must not see it. */
  elsewhere: string;
  /** The outbox key of the open assignment's issued email, once sent: the target of the outbox calls. */
  email: string;
  /** An import read but not confirmed: the target of refused confirmations and of reads. */
  import: string;
  /** The observer's user id: the target of user changes (a new name only). */
  observerId: string;
  /** One fixture per allowed call that changes state. */
  fresh: {
    confirm: Record<'admin' | 'curator', string>;
    submit: string;
    extension: string;
    review: Record<'admin' | 'curator', string>;
    decision: Record<'admin' | 'curator', string>;
    issue: Record<'admin' | 'curator', string>;
    withdraw: Record<'admin' | 'curator', string>;
  };
}
let fx: Fixtures;

const FILE_CONTENT = Buffer.from('Отчёт об исполнении для проверки доступа');
const EXTENDED_UNTIL = '2099-12-31';
/** Each role uploads different bytes, so a refused upload that reached the store can be found. */
const uploadBy = (role: Role) => Buffer.from(`Отчёт, отправленный под ролью ${role}`);
const EXTENDED_DUE = '2099-12-31T16:59:59.999Z';
/**
 * Production-calendar years entered for these calls: the admin enters `put` and removes `removed`;
 * refused writes aim at `kept`, which exists, so a broken gate would show up as a success.
 */
const CALENDAR = { kept: 2096, removed: 2097, put: 2098 };
const calendarYear = (year: number, by = 'admin') => ({
  source: `Календарь на ${year} год для проверки доступа (${by})`,
  daysOff: [`${year}-01-02`, `${year}-01-03`],
  workingWeekends: [],
});

/** Groups: refused writes aim at `kept`, which exists; the admin saves `put` and removes `removed`. */
const GROUP = { kept: 'acc-kept', removed: 'acc-removed', put: 'acc-put' };
const PROTOCOL_TEXT =
  'По итогам совещания рекомендовано:\n· провести анализ участия обучающихся в олимпиадах (срок – до 30.09.2099);\n· обновить планы работы центров (срок: ноябрь 2099 г.).';
const confirmBody = { source: { kind: 'protocol', number: '9', date: '2099-01-15' }, items: [{ n: 1, assignees: ['org-a'] }] };

const recommendation = (assignees: string[]) => ({
  source: { kind: 'protocol', number: '7', date: '2022-06-15', title: 'Протокол заседания Коллегии' },
  text: 'Обеспечить участие педагогов в курсах повышения квалификации',
  assignees,
  deadline: { due: '2099-09-30' },
});

async function draft(assignees: string[] = ['org-a']): Promise<string> {
  const res = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation(assignees) });
  if (res.status !== 201) throw new Error(`draft: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function waitForHistory(id: string, type: string) {
  return eventually(async () => {
    const res = await h.request('GET', `/api/assignments/${id}`, { token: tokens.curator });
    return res.body.history?.some((e: { type: string }) => e.type === type) ? res.body : undefined;
  }, 20_000, `${type} in the history of ${id}`);
}

/** Issues a recommendation and waits until every assignment's workflow runs; returns org-a's assignment id. */
async function issued(assignees: string[] = ['org-a']): Promise<{ recommendationId: string; assignmentId: string }> {
  const recommendationId = await draft(assignees);
  const res = await h.request('POST', `/api/recommendations/${recommendationId}/issue`, { token: tokens.curator });
  if (res.status !== 200) throw new Error(`issue: ${res.status} ${JSON.stringify(res.body)}`);
  for (const a of res.body.assignments as Array<{ id: string }>) await waitForHistory(a.id, 'issued');
  return { recommendationId, assignmentId: `${recommendationId}.${assignees[0]}.1` };
}

function evidenceForm(content = FILE_CONTENT) {
  const form = new FormData();
  form.append('comment', 'Курсы пройдены, удостоверения прилагаются');
  form.append('files', new Blob([content], { type: 'text/plain' }), 'Удостоверения.txt');
  return form;
}

async function submitted(): Promise<string> {
  const { assignmentId } = await issued();
  const res = await h.request('POST', `/api/assignments/${assignmentId}/submissions`, { token: tokens.executor, form: evidenceForm() });
  if (res.status !== 200) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return assignmentId;
}

async function withPendingExtension(): Promise<string> {
  const { assignmentId } = await issued();
  const res = await h.request('POST', `/api/assignments/${assignmentId}/extension-requests`, {
    token: tokens.executor,
    json: { until: EXTENDED_UNTIL, reason: 'Курсы перенесены на осень' },
  });
  if (res.status !== 200) throw new Error(`extension: ${res.status} ${JSON.stringify(res.body)}`);
  return assignmentId;
}

beforeAll(async () => {
  h = await startHarness('access');
  tokens = await h.seedUsers();
  const [baseIssued, open, pending, draftId, elsewhere, submit, extension, reviewA, reviewC, decisionA, decisionC, issueA, issueC, withdrawA, withdrawC] =
    await Promise.all([
      issued(['org-a', 'org-c']),
      issued().then((r) => r.assignmentId),
      withPendingExtension(),
      draft(),
      issued(['org-b', 'org-c']).then((r) => r.recommendationId),
      issued().then((r) => r.assignmentId),
      issued().then((r) => r.assignmentId),
      submitted(),
      submitted(),
      withPendingExtension(),
      withPendingExtension(),
      draft(),
      draft(),
      draft(),
      draft(),
    ]);
  for (const code of [GROUP.kept, GROUP.removed]) {
    const res = await h.request('PUT', `/api/groups/${code}`, { token: tokens.admin, json: { name: `Группа ${code}`, phrases: [], members: ['org-a'] } });
    if (res.status !== 200) throw new Error(`group ${code}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const readImport = async () => {
    const res = await h.request('POST', '/api/imports/protocol', { token: tokens.curator, json: { text: PROTOCOL_TEXT } });
    if (res.status !== 201) throw new Error(`import: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };
  const [importKept, importA, importC] = [await readImport(), await readImport(), await readImport()];
  for (const year of [CALENDAR.kept, CALENDAR.removed]) {
    const res = await h.request('PUT', `/api/calendar/${year}`, { token: tokens.admin, json: calendarYear(year) });
    if (res.status !== 200) throw new Error(`calendar ${year}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const baseSubmit = await h.request('POST', `/api/assignments/${baseIssued.assignmentId}/submissions`, {
    token: tokens.executor,
    form: evidenceForm(),
  });
  expect(baseSubmit.status).toBe(200);
  const detail = await h.request('GET', `/api/assignments/${baseIssued.assignmentId}`, { token: tokens.curator });
  const email = await eventually(async () => {
    const entry = await h.api.db.models.outbox.findOne({ 'context.assignmentId': open, template: 'assignment-issued', status: 'sent' }).lean();
    return entry?._id;
  }, 20_000, `the issued email of ${open}`);
  fx = {
    base: { ...baseIssued, fileUrl: detail.body.evidence[0].files[0].url },
    open,
    pending,
    draft: draftId,
    elsewhere,
    email,
    import: importKept,
    observerId: (await h.api.db.repos.users.findByEmail('observer@kontrol.test'))!._id,
    fresh: {
      confirm: { admin: importA, curator: importC },
      submit,
      extension,
      review: { admin: reviewA, curator: reviewC },
      decision: { admin: decisionA, curator: decisionC },
      issue: { admin: issueA, curator: issueC },
      withdraw: { admin: withdrawA, curator: withdrawC },
    },
  };
}, 60_000);
afterAll(() => h?.stop());

interface Call {
  method: string;
  url: string;
  json?: unknown;
  form?: FormData;
}
interface Route {
  name: string;
  expect: Record<Role, number>;
  call(role: Role): Call;
  /** Checks that an allowed call did what it says, not merely that it answered 2xx. */
  check?(res: HttpResult, role: Role): void;
}

const everyone = (status: number): Record<Role, number> => ({
  anonymous: status,
  admin: status,
  curator: status,
  observer: status,
  executor: status,
  otherExecutor: status,
});
const signedIn = (status: number) => ({ ...everyone(status), anonymous: 401 });
const adminOnly = { ...signedIn(403), admin: 200 };
const staffOnly = (status: number) => ({ ...signedIn(403), admin: status, curator: status });
/** Readable by everyone signed in except another organisation's executor, who must not learn it exists. */
const ownOrganisation = { ...signedIn(200), otherExecutor: 404 };
/** Only the assignment's own executor acts; the other one is told the assignment does not exist. */
const ownExecutorOnly = { ...signedIn(403), executor: 200, otherExecutor: 404 };

const staff = (role: Role) => role as 'admin' | 'curator';

const ROUTES: Route[] = [
  {
    name: 'POST /api/auth/login',
    expect: everyone(200),
    call: (role) => ({
      method: 'POST',
      url: '/api/auth/login',
      json: { email: EMAIL[role === 'anonymous' ? 'executor' : role], password: PASSWORD },
    }),
    check: (res, role) => expect(res.body.user.email).toBe(EMAIL[role === 'anonymous' ? 'executor' : role]),
  },
  {
    name: 'GET /api/auth/me',
    expect: signedIn(200),
    call: () => ({ method: 'GET', url: '/api/auth/me' }),
    check: (res, role) => expect(res.body.email).toBe(EMAIL[role as SignedIn]),
  },
  {
    name: 'POST /api/organizations',
    expect: { ...signedIn(403), admin: 201 },
    call: (role) => ({
      method: 'POST',
      url: '/api/organizations',
      json: { code: `acc-${role.toLowerCase()}`, name: `Организация ${role}`, kind: 'other' },
    }),
    check: (res) => expect(res.body.code).toBe('acc-admin'),
  },
  {
    name: 'GET /api/organizations',
    expect: signedIn(200),
    call: () => ({ method: 'GET', url: '/api/organizations' }),
    check: (res) => expect(res.body.items.length).toBeGreaterThan(0),
  },
  {
    name: 'GET /api/organizations/:code',
    expect: ownOrganisation,
    call: () => ({ method: 'GET', url: '/api/organizations/org-a' }),
    check: (res) => expect(res.body.code).toBe('org-a'),
  },
  {
    name: 'PATCH /api/organizations/:code',
    expect: adminOnly,
    call: (role) => ({ method: 'PATCH', url: '/api/organizations/org-a', json: { contacts: { coordinator: [`${role.toLowerCase()}@org-a.test`], head: [] } } }),
    check: (res) => expect(res.body.contacts.coordinator).toEqual(['admin@org-a.test']),
  },
  {
    name: 'POST /api/users',
    expect: { ...signedIn(403), admin: 201 },
    call: (role) => ({
      method: 'POST',
      url: '/api/users',
      json: { email: `acc-${role.toLowerCase()}@kontrol.test`, name: 'Новый наблюдатель', password: PASSWORD, role: 'observer' },
    }),
    check: (res) => expect(res.body).toMatchObject({ email: 'acc-admin@kontrol.test', role: 'observer' }),
  },
  {
    name: 'GET /api/users',
    expect: { ...signedIn(403), admin: 200, curator: 200, observer: 200 },
    call: () => ({ method: 'GET', url: '/api/users' }),
    check: (res) => expect(res.body.items.map((u: { email: string }) => u.email)).toContain('executor@org-a.test'),
  },
  {
    name: 'POST /api/deadlines/parse',
    expect: staffOnly(200),
    call: () => ({ method: 'POST', url: '/api/deadlines/parse', json: { text: 'срок – сентябрь 2022 г.', reference: '2022-05-31' } }),
    check: (res) => expect(res.body).toMatchObject({ kind: 'date', nominal: '2022-09-30', dueDate: '2022-09-30' }),
  },
  {
    name: 'POST /api/recommendations',
    expect: staffOnly(201),
    call: () => ({ method: 'POST', url: '/api/recommendations', json: recommendation(['org-a']) }),
    check: (res) => expect(res.body.status).toBe('draft'),
  },
  {
    name: 'POST /api/recommendations/:id/issue',
    expect: staffOnly(200),
    call: (role) => ({
      method: 'POST',
      url: `/api/recommendations/${role === 'admin' || role === 'curator' ? fx.fresh.issue[staff(role)] : fx.draft}/issue`,
    }),
    check: (res) => expect(res.body).toMatchObject({ status: 'issued', assignments: [{ organization: 'org-a' }] }),
  },
  {
    name: 'GET /api/recommendations',
    expect: signedIn(200),
    call: () => ({ method: 'GET', url: '/api/recommendations?limit=500' }),
    check: (res, role) => {
      const ids = res.body.items.map((r: { id: string }) => r.id);
      if (role === 'otherExecutor') expect(ids).toEqual([fx.elsewhere]);
      else expect(ids).toContain(fx.base.recommendationId);
    },
  },
  {
    name: 'GET /api/recommendations/:id',
    expect: ownOrganisation,
    call: () => ({ method: 'GET', url: `/api/recommendations/${fx.base.recommendationId}` }),
    check: (res) => expect(res.body).toMatchObject({ id: fx.base.recommendationId, status: 'issued' }),
  },
  {
    name: 'POST /api/recommendations/:id/withdraw',
    expect: staffOnly(200),
    call: (role) => ({
      method: 'POST',
      url: `/api/recommendations/${role === 'admin' || role === 'curator' ? fx.fresh.withdraw[staff(role)] : fx.draft}/withdraw`,
      json: { reason: 'Утратило актуальность' },
    }),
    check: (res) => expect(res.body).toMatchObject({ status: 'withdrawn', withdrawal: { reason: 'Утратило актуальность' } }),
  },
  {
    name: 'GET /api/assignments',
    expect: signedIn(200),
    call: () => ({ method: 'GET', url: '/api/assignments?limit=500' }),
    check: (res, role) =>
      expect(res.body.items.map((a: { id: string }) => a.id).includes(fx.base.assignmentId)).toBe(role !== 'otherExecutor'),
  },
  {
    name: 'GET /api/assignments/:id',
    expect: ownOrganisation,
    call: () => ({ method: 'GET', url: `/api/assignments/${fx.base.assignmentId}` }),
    check: (res) => expect(res.body).toMatchObject({ id: fx.base.assignmentId, status: 'submitted' }),
  },
  {
    name: 'POST /api/assignments/:id/submissions',
    expect: ownExecutorOnly,
    call: (role) => ({
      method: 'POST',
      url: `/api/assignments/${role === 'executor' ? fx.fresh.submit : fx.open}/submissions`,
      form: evidenceForm(uploadBy(role)),
    }),
    check: (res) => expect(res.body).toMatchObject({ id: fx.fresh.submit, status: 'submitted', submissions: 1 }),
  },
  {
    name: 'POST /api/assignments/:id/review',
    expect: staffOnly(200),
    call: (role) => ({
      method: 'POST',
      url: `/api/assignments/${role === 'admin' || role === 'curator' ? fx.fresh.review[staff(role)] : fx.base.assignmentId}/review`,
      json: { decision: 'accept' },
    }),
    check: (res, role) => expect(res.body).toMatchObject({ id: fx.fresh.review[staff(role)], status: 'accepted' }),
  },
  {
    name: 'POST /api/assignments/:id/extension-requests',
    expect: ownExecutorOnly,
    call: (role) => ({
      method: 'POST',
      url: `/api/assignments/${role === 'executor' ? fx.fresh.extension : fx.open}/extension-requests`,
      json: { until: EXTENDED_UNTIL, reason: 'Курсы перенесены на осень' },
    }),
    check: (res) => expect(res.body.extension).toMatchObject({ reason: 'Курсы перенесены на осень', requestedBy: EMAIL.executor }),
  },
  {
    name: 'POST /api/assignments/:id/extension-requests/decision',
    expect: staffOnly(200),
    call: (role) => ({
      method: 'POST',
      url: `/api/assignments/${role === 'admin' || role === 'curator' ? fx.fresh.decision[staff(role)] : fx.pending}/extension-requests/decision`,
      json: { approve: true },
    }),
    check: (res) => expect(res.body).toMatchObject({ due: EXTENDED_DUE, extension: null }),
  },
  {
    name: 'GET /api/assignments/:id/files/:fileId',
    expect: ownOrganisation,
    call: () => ({ method: 'GET', url: fx.base.fileUrl }),
    check: (res) => expect(res.raw.equals(FILE_CONTENT)).toBe(true),
  },
  {
    name: 'GET /api/templates',
    expect: adminOnly,
    call: () => ({ method: 'GET', url: '/api/templates' }),
    check: (res) => expect(res.body.items.map((t: { name: string }) => t.name)).toContain('assignment-issued'),
  },
  {
    name: 'GET /api/templates/:name/preview',
    expect: adminOnly,
    call: () => ({ method: 'GET', url: '/api/templates/assignment-issued/preview' }),
    check: (res) => expect(res.body).toMatchObject({ name: 'assignment-issued', subject: expect.stringMatching(/^Новое поручение/) }),
  },
  {
    name: 'GET /api/outbox',
    expect: adminOnly,
    call: () => ({ method: 'GET', url: '/api/outbox?limit=500' }),
    check: (res) => expect(res.body.items.map((e: { key: string }) => e.key)).toContain(fx.email),
  },
  {
    name: 'GET /api/outbox/:key',
    expect: adminOnly,
    call: () => ({ method: 'GET', url: `/api/outbox/${encodeURIComponent(fx.email)}` }),
    check: (res) => expect(res.body).toMatchObject({ key: fx.email, html: expect.stringMatching(/^<!doctype html>/) }),
  },
  {
    name: 'POST /api/outbox/:key/resend',
    expect: adminOnly,
    call: () => ({ method: 'POST', url: `/api/outbox/${encodeURIComponent(fx.email)}/resend` }),
    check: (res) => expect(res.body).toMatchObject({ key: fx.email, status: 'sent', resends: 1 }),
  },
  {
    name: 'GET /api/calendar',
    expect: signedIn(200),
    call: () => ({ method: 'GET', url: '/api/calendar' }),
    check: (res) => expect(res.body.items.map((y: { year: number }) => y.year)).toEqual(expect.arrayContaining([2024, CALENDAR.kept])),
  },
  {
    name: 'GET /api/calendar/deadline',
    expect: signedIn(200),
    call: () => ({ method: 'GET', url: '/api/calendar/deadline?date=2024-12-31' }),
    check: (res) => expect(res.body).toMatchObject({ nominal: '2024-12-31', dueDate: '2024-12-28', moved: true, rule: 'previous' }),
  },
  {
    name: 'GET /api/calendar/:year',
    expect: signedIn(200),
    call: () => ({ method: 'GET', url: `/api/calendar/${CALENDAR.kept}` }),
    check: (res) => expect(res.body).toMatchObject({ year: CALENDAR.kept, origin: 'added', daysOff: calendarYear(CALENDAR.kept).daysOff }),
  },
  {
    name: 'PUT /api/calendar/:year',
    expect: adminOnly,
    call: (role) => {
      const year = role === 'admin' ? CALENDAR.put : CALENDAR.kept;
      return { method: 'PUT', url: `/api/calendar/${year}`, json: calendarYear(year, role) };
    },
    check: (res) => expect(res.body).toMatchObject({ year: CALENDAR.put, origin: 'added', updatedBy: EMAIL.admin }),
  },
  {
    name: 'DELETE /api/calendar/:year',
    expect: { ...signedIn(403), admin: 204 },
    call: (role) => ({ method: 'DELETE', url: `/api/calendar/${role === 'admin' ? CALENDAR.removed : CALENDAR.kept}` }),
    check: (res) => expect(res.raw.length).toBe(0),
  },
  {
    name: 'PATCH /api/users/:id',
    expect: { ...adminOnly, anonymous: 401 },
    call: (role) => ({ method: 'PATCH', url: `/api/users/${fx.observerId}`, json: { name: `Наблюдатель (${role})` } }),
    check: (res) => expect(res.body).toMatchObject({ email: 'observer@kontrol.test', name: 'Наблюдатель (admin)', role: 'observer', active: true }),
  },
  {
    name: 'GET /api/groups',
    expect: { ...signedIn(403), admin: 200, curator: 200, observer: 200 },
    call: () => ({ method: 'GET', url: '/api/groups' }),
    check: (res) => expect(res.body.items.find((g: { code: string }) => g.code === GROUP.kept).members).toEqual([{ code: 'org-a', name: expect.any(String) }]),
  },
  {
    name: 'GET /api/groups/:code',
    expect: { ...signedIn(403), admin: 200, curator: 200, observer: 200 },
    call: () => ({ method: 'GET', url: `/api/groups/${GROUP.kept}` }),
    check: (res) => expect(res.body).toMatchObject({ code: GROUP.kept, name: `Группа ${GROUP.kept}` }),
  },
  {
    name: 'PUT /api/groups/:code',
    expect: adminOnly,
    call: (role) => ({
      method: 'PUT',
      url: `/api/groups/${role === 'admin' ? GROUP.put : GROUP.kept}`,
      json: { name: `Группа от ${role}`, phrases: ['муниципальные координаторы'], members: ['org-b'] },
    }),
    check: (res) => expect(res.body).toMatchObject({ code: GROUP.put, name: 'Группа от admin', members: [{ code: 'org-b' }] }),
  },
  {
    name: 'DELETE /api/groups/:code',
    expect: { ...signedIn(403), admin: 204 },
    call: (role) => ({ method: 'DELETE', url: `/api/groups/${role === 'admin' ? GROUP.removed : GROUP.kept}` }),
    check: (res) => expect(res.raw.length).toBe(0),
  },
  {
    name: 'POST /api/imports/protocol',
    expect: staffOnly(201),
    call: () => ({ method: 'POST', url: '/api/imports/protocol', json: { text: PROTOCOL_TEXT } }),
    check: (res) => expect(res.body.items.map((i: { deadline: { nominal: string } }) => i.deadline.nominal)).toEqual(['2099-09-30', '2099-11-30']),
  },
  {
    name: 'GET /api/imports',
    expect: staffOnly(200),
    call: () => ({ method: 'GET', url: '/api/imports' }),
    check: (res) => expect(res.body.items.map((i: { id: string }) => i.id)).toContain(fx.import),
  },
  {
    name: 'GET /api/imports/:id',
    expect: staffOnly(200),
    call: () => ({ method: 'GET', url: `/api/imports/${fx.import}` }),
    check: (res) => expect(res.body).toMatchObject({ id: fx.import, status: 'draft' }),
  },
  {
    name: 'POST /api/imports/:id/confirm',
    expect: staffOnly(200),
    call: (role) => ({
      method: 'POST',
      url: `/api/imports/${role === 'admin' || role === 'curator' ? fx.fresh.confirm[staff(role)] : fx.import}/confirm`,
      json: confirmBody,
    }),
    check: (res) => expect(res.body).toMatchObject({ status: 'confirmed', recommendations: [{ n: 1, status: 'issued', assignments: 1 }] }),
  },
  {
    name: 'GET /api/openapi.json',
    expect: everyone(200),
    call: () => ({ method: 'GET', url: '/api/openapi.json' }),
    check: (res) => expect(res.body.paths['/api/assignments/{id}/review']).toBeDefined(),
  },
  {
    name: 'GET /healthz',
    expect: everyone(200),
    call: () => ({ method: 'GET', url: '/healthz' }),
    check: (res) => expect(res.body).toEqual({ status: 'ok' }),
  },
];

const CELLS = ROUTES.flatMap((route) => ROLES.map((role) => ({ route, role, status: route.expect[role] })));

describe('every route as every role', () => {
  it.each(CELLS.map((cell) => [`${WHO[cell.role]} gets ${cell.status} from ${cell.route.name}`, cell] as const))('%s', async (_title, { route, role, status }) => {
    const { method, url, json, form } = route.call(role);
    const res = await h.request(method, url, { token: role === 'anonymous' ? undefined : tokens[role], json, form });
    expect({ status: res.status, body: res.status === status ? undefined : res.body }).toEqual({ status, body: undefined });
    if (status < 300) route.check?.(res, role);
    else expect(res.body.error).toMatchObject({ code: expect.any(String), message: expect.stringMatching(/[А-Яа-яЁё]/) });
  });
});

describe("an executor's lists", () => {
  it('hold only its own organisation’s assignments, even when organization= names another one', async () => {
    const all = await h.request('GET', '/api/assignments?organization=org-c&limit=500', { token: tokens.curator });
    expect(all.body.total).toBeGreaterThan(0);

    for (const [role, org] of [['executor', 'org-a'], ['otherExecutor', 'org-b']] as const) {
      const own = await h.request('GET', '/api/assignments?limit=500', { token: tokens[role] });
      const staffView = await h.request('GET', `/api/assignments?organization=${org}&limit=500`, { token: tokens.curator });
      expect(own.body.items.length).toBeGreaterThan(0);
      expect(own.body.items.map((a: { id: string }) => a.id).sort()).toEqual(staffView.body.items.map((a: { id: string }) => a.id).sort());
      expect(own.body.total).toBe(staffView.body.total);

      const asked = await h.request('GET', '/api/assignments?organization=org-c&limit=500', { token: tokens[role] });
      expect(asked.status).toBe(200);
      expect(asked.body.items.filter((a: { organization: string }) => a.organization !== org)).toEqual([]);
      // The count must not leak how many assignments another organisation has either.
      expect(asked.body.total).toBe(asked.body.items.length);
    }
  });

  it('never show drafts or recommendations addressed to other organisations', async () => {
    const staffView = await h.request('GET', '/api/recommendations?limit=500', { token: tokens.curator });
    const staffIds = staffView.body.items.map((r: { id: string }) => r.id);
    expect(staffIds).toEqual(expect.arrayContaining([fx.draft, fx.elsewhere, fx.base.recommendationId]));

    const own = await h.request('GET', '/api/recommendations?limit=500', { token: tokens.executor });
    const ids = own.body.items.map((r: { id: string }) => r.id);
    expect(ids).toContain(fx.base.recommendationId);
    expect(ids).not.toContain(fx.draft);
    expect(ids).not.toContain(fx.elsewhere);
    for (const item of own.body.items) {
      expect(item.status).not.toBe('draft');
      // An executor learns only that its own organisation is addressed, not who else is.
      expect(item.assignees).toEqual(['org-a']);
    }
    expect(own.body.total).toBe(own.body.items.length);

    // By id, too, an executor sees its own organisation only: among the addressees and in the counts.
    const staffDetail = await h.request('GET', `/api/recommendations/${fx.base.recommendationId}`, { token: tokens.curator });
    expect(staffDetail.body).toMatchObject({ assignees: ['org-a', 'org-c'], counts: { total: 2, submitted: 1, issued: 1 } });
    const ownDetail = await h.request('GET', `/api/recommendations/${fx.base.recommendationId}`, { token: tokens.executor });
    expect(ownDetail.body).toMatchObject({ assignees: ['org-a'], counts: { total: 1, submitted: 1, issued: 0 } });

    const drafts = await h.request('GET', '/api/recommendations?status=draft&limit=500', { token: tokens.executor });
    expect(drafts.body).toMatchObject({ items: [], total: 0 });
    expect((await h.request('GET', `/api/recommendations/${fx.draft}`, { token: tokens.executor })).status).toBe(404);
    expect((await h.request('GET', `/api/recommendations/${fx.elsewhere}`, { token: tokens.executor })).status).toBe(404);
  });

  // A draft withdrawn before it was issued has status 'withdrawn' but was never addressed to anyone.
  it('never show a draft that was withdrawn before it was issued, in the list or by id', async () => {
    const staffView = await h.request('GET', '/api/recommendations?limit=500', { token: tokens.curator });
    const own = await h.request('GET', '/api/recommendations?limit=500', { token: tokens.executor });
    const withdrawn = await h.request('GET', '/api/recommendations?status=withdrawn&limit=500', { token: tokens.executor });
    for (const id of Object.values(fx.fresh.withdraw)) {
      expect(staffView.body.items.find((r: { id: string }) => r.id === id)).toMatchObject({ status: 'withdrawn', issuedAt: null });
      expect({ id, listed: own.body.items.some((r: { id: string }) => r.id === id) }).toEqual({ id, listed: false });
      expect({ id, listed: withdrawn.body.items.some((r: { id: string }) => r.id === id) }).toEqual({ id, listed: false });
      expect({ id, status: (await h.request('GET', `/api/recommendations/${id}`, { token: tokens.executor })).status }).toEqual({ id, status: 404 });
    }
    for (const item of own.body.items) expect(item.issuedAt).not.toBeNull();
  });

  it('show only its own organisation', async () => {
    const staffView = await h.request('GET', '/api/organizations', { token: tokens.curator });
    expect(staffView.body.items.map((o: { code: string }) => o.code)).toEqual(expect.arrayContaining(['org-a', 'org-b', 'org-c', 'rcro']));
    for (const [role, org] of [['executor', 'org-a'], ['otherExecutor', 'org-b']] as const) {
      const own = await h.request('GET', '/api/organizations', { token: tokens[role] });
      expect(own.body).toMatchObject({ items: [{ code: org }], total: 1 });
      expect(own.body.items).toHaveLength(1);
    }
  });
});

describe('calls refused at the gate', () => {
  it('changed nothing', async () => {
    const open = await h.request('GET', `/api/assignments/${fx.open}`, { token: tokens.curator });
    expect(open.body).toMatchObject({ status: 'issued', submissions: 0, extension: null, evidence: [] });
    expect(open.body.history.map((e: { type: string }) => e.type)).toEqual(['issued']);

    const pending = await h.request('GET', `/api/assignments/${fx.pending}`, { token: tokens.curator });
    expect(pending.body).toMatchObject({ status: 'issued', due: '2099-09-30T16:59:59.999Z', extension: { until: expect.any(String) } });

    const base = await h.request('GET', `/api/assignments/${fx.base.assignmentId}`, { token: tokens.curator });
    expect(base.body).toMatchObject({ status: 'submitted', submissions: 1 });

    // Refused group writes left the kept group as it was; a refused confirmation issued nothing.
    const kept = await h.request('GET', `/api/groups/${GROUP.kept}`, { token: tokens.admin });
    expect(kept.body).toMatchObject({ name: `Группа ${GROUP.kept}`, phrases: [], members: [{ code: 'org-a' }] });
    const untouched = await h.request('GET', `/api/imports/${fx.import}`, { token: tokens.curator });
    expect(untouched.body).toMatchObject({ status: 'draft', recommendations: null });

    // Access is checked before an upload is read: refused uploads never reach the file store.
    expect(await readdir(path.join(h.config.filesDir, 'incoming'))).toEqual([]);
    for (const role of ROLES.filter((r) => r !== 'executor')) {
      const sha256 = createHash('sha256').update(uploadBy(role)).digest('hex');
      const stored = await stat(path.join(h.config.filesDir, sha256.slice(0, 2), sha256)).then(() => true, () => false);
      expect({ role, stored }).toEqual({ role, stored: false });
    }
    const ownSha = createHash('sha256').update(uploadBy('executor')).digest('hex');
    expect((await stat(path.join(h.config.filesDir, ownSha.slice(0, 2), ownSha))).size).toBe(uploadBy('executor').length);

    const draftRec = await h.request('GET', `/api/recommendations/${fx.draft}`, { token: tokens.curator });
    expect(draftRec.body.status).toBe('draft');

    const orgs = await h.request('GET', '/api/organizations', { token: tokens.admin });
    expect(orgs.body.items.map((o: { code: string }) => o.code).filter((c: string) => c.startsWith('acc-'))).toEqual(['acc-admin']);
    const orgA = await h.request('GET', '/api/organizations/org-a', { token: tokens.admin });
    expect(orgA.body.contacts.coordinator).toEqual(['admin@org-a.test']);

    const users = await h.request('GET', '/api/users', { token: tokens.admin });
    expect(users.body.items.map((u: { email: string }) => u.email).filter((e: string) => e.startsWith('acc-'))).toEqual(['acc-admin@kontrol.test']);

    // The calendar holds the admin's year and the kept one as entered; the removed one is gone.
    const calendar = await h.request('GET', '/api/calendar', { token: tokens.admin });
    const added = calendar.body.items.filter((y: { origin: string }) => y.origin === 'added');
    expect(added.map((y: { year: number; source: string }) => [y.year, y.source])).toEqual([
      [CALENDAR.kept, calendarYear(CALENDAR.kept).source],
      [CALENDAR.put, calendarYear(CALENDAR.put).source],
    ]);
    expect((await h.api.db.repos.audit.forEntity('calendar', String(CALENDAR.kept))).map((e) => e.action)).toEqual(['created']);

    // The email went out again for the admin's request only.
    expect(await h.api.db.repos.outbox.get(fx.email)).toMatchObject({ status: 'sent', resends: 1 });
    expect((await h.api.db.repos.audit.forEntity('email', fx.email)).map((e) => e.actor.email)).toEqual([EMAIL.admin]);
  });
});
