/**
 * Every page as every role, over plain HTTP with a cookie jar: who gets the page, who is refused
 * (403) and who is sent to the login page; an executor asking for another organisation's
 * assignment gets the 404 page. Sessions end at logout on the server, not only in the browser.
 */
import ExcelJS from 'exceljs';
import type { AssignmentState } from '../../domain/assignment';
import { eventually, PASSWORD, startHarness, type Harness } from '../support/harness';

let h: Harness;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;
let own: string;

const EMAIL = {
  admin: 'admin@kontrol.test',
  curator: 'curator@kontrol.test',
  observer: 'observer@kontrol.test',
  executor: 'executor@org-a.test',
  otherExecutor: 'executor@org-b.test',
} as const;
type Who = keyof typeof EMAIL | 'anonymous';

beforeAll(async () => {
  h = await startHarness('pages');
  tokens = await h.seedUsers();
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: { source: { kind: 'letter', number: '1', date: '2026-01-10' }, text: 'Проверка страниц', assignees: ['org-a'], deadline: { due: '2099-09-30' } },
  });
  own = (await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator })).body.assignments[0].id;
  await eventually(async () => ((await h.request('GET', `/api/assignments/${own}`, { token: tokens.curator })).body.history?.length ? true : undefined));
});
afterAll(() => h?.stop());

const cookieOf = (email: string) => h.pageCookie(email);

/** A browser-like client: keeps the session cookie, never follows redirects on its own. */
function client() {
  let cookie = '';
  const call = async (method: string, path: string, form?: Record<string, string>) => {
    const res = await fetch(h.api.url + path, {
      method,
      redirect: 'manual',
      headers: { accept: 'text/html', cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return { status: res.status, location: res.headers.get('location'), cacheControl: res.headers.get('cache-control'), html: await res.text() };
  };
  const token = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return {
    call,
    token,
    async login(email: string) {
      const form = await call('GET', '/login');
      const res = await call('POST', '/login', { _csrf: token(form.html), email, password: PASSWORD });
      if (res.status !== 303) throw new Error(`login ${email}: ${res.status} ${res.html.slice(res.html.indexOf("<main"), res.html.indexOf("<main") + 400)}`);
      return res.location;
    },
  };
}

/**
 * A recommendation in the registry and its addressees' rows in the read model, with no workflows:
 * for pages that only read. `due` is the day (the end of it in Tomsk).
 */
async function readModelRecommendation(r: { id: string; number: string; date: string; text: string; assignees: string[]; due: string; kind?: 'letter' | 'protocol'; issuedAt?: Date }) {
  return h.api.db.repos.recommendations.create({
    _id: r.id,
    source: { id: r.id, kind: r.kind ?? 'letter', issuer: 'РЦРО', number: r.number, date: r.date, title: '' },
    text: r.text,
    assignees: r.assignees,
    deadline: { due: new Date(`${r.due}T16:59:59Z`), input: r.due },
    status: 'issued',
    ...(r.issuedAt ? { issuedAt: r.issuedAt } : {}),
    createdBy: { id: 'test', email: 'test', role: 'curator' },
  });
}

const PAGES: Array<[string, () => string, Record<Who, number>]> = [
  ['/my', () => '/my', { anonymous: 303, admin: 403, curator: 403, observer: 403, executor: 200, otherExecutor: 200 }],
  ['/dashboard', () => '/dashboard', { anonymous: 303, admin: 200, curator: 200, observer: 200, executor: 403, otherExecutor: 403 }],
  ['/review', () => '/review', { anonymous: 303, admin: 200, curator: 200, observer: 403, executor: 403, otherExecutor: 403 }],
  ['/assignments/:id', () => `/assignments/${own}`, { anonymous: 303, admin: 200, curator: 200, observer: 200, executor: 200, otherExecutor: 404 }],
];
const staffPage = { anonymous: 303, admin: 200, curator: 200, observer: 403, executor: 403, otherExecutor: 403 };
const readAllPage = { anonymous: 303, admin: 200, curator: 200, observer: 200, executor: 403, otherExecutor: 403 };
PAGES.push(
  ['/recommendations', () => '/recommendations', readAllPage],
  ['/recommendations/:id', () => `/recommendations/${own.split('.')[0]}`, readAllPage],
  ['/recommendations/new', () => '/recommendations/new', staffPage],
  ['/imports/new', () => '/imports/new', staffPage],
  ['/extensions', () => '/extensions', staffPage],
  ['/reports/discipline', () => '/reports/discipline', readAllPage],
  ['/reports/discipline.xlsx', () => '/reports/discipline.xlsx', readAllPage],
);
const adminPage = { anonymous: 303, admin: 200, curator: 403, observer: 403, executor: 403, otherExecutor: 403 };
for (const path of ['/admin', '/admin/organizations', '/admin/organizations/org-a', '/admin/users', '/admin/groups', '/admin/policy', '/admin/calendar', '/admin/outbox']) {
  PAGES.push([path, () => path, adminPage]);
}
const WHO: Who[] = ['anonymous', 'admin', 'curator', 'observer', 'executor', 'otherExecutor'];

describe('pages as every role', () => {
  it.each(PAGES.flatMap(([name, url, expected]) => WHO.map((who) => [`${who} gets ${expected[who]} from ${name}`, url, who, expected[who]] as const)))(
    '%s',
    async (_title, url, who, status) => {
      const c = client();
      if (who !== 'anonymous') await c.login(EMAIL[who]);
      const res = await c.call('GET', url());
      expect(res.status).toBe(status);
      if (status === 303) expect(res.location).toBe(`/login?next=${encodeURIComponent(url())}`);
      if (status >= 400) expect(res.html).toMatch(/<html lang="ru">[\s\S]*(Эта страница не для вашей роли|Поручение не найдено)/);
    },
  );

  it('exports the report as a real .xlsx workbook', async () => {
    // One assignment issued (to org-a, in beforeAll), still open and not yet due.
    const res = await fetch(`${h.api.url}/reports/discipline.xlsx?from=2020-01-01&to=2099-12-31`, { headers: { cookie: await cookieOf(EMAIL.observer) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(await res.arrayBuffer()) as never);
    expect(book.worksheets.map((w) => w.name)).toEqual(['По организациям', 'По рекомендациям']);
    const orgs = book.getWorksheet('По организациям')!;
    // Names, not codes.
    expect(orgs.getRow(3).values).toEqual([undefined, 'Организация', 'Выдано', 'Исполнено в срок', 'Исполнено с опозданием', 'Просрочено сейчас', 'Возвращалось на доработку', 'Исполнительская дисциплина, %']);
    expect(orgs.getRow(4).values).toEqual([undefined, 'Организация ORG-A', 1, 0, 0, 0, 0, '']);
    const bad = await fetch(`${h.api.url}/reports/discipline?from=2024-05-01&to=2024-01-01`, { headers: { cookie: await cookieOf(EMAIL.observer), accept: 'text/html' } });
    const badHtml = await bad.text();
    expect({ status: bad.status, main: bad.status === 400 ? '' : badHtml.slice(badHtml.indexOf('<main'), badHtml.indexOf('<main') + 300) }).toEqual({ status: 400, main: '' });
    expect(badHtml).toContain('Неверный период');
    // On the form, as typed, beside the figures of this year so far.
    expect(badHtml).toMatch(/<input id="from" name="from" type="date" value="2024-05-01" required aria-describedby="period-error">/);
    expect(badHtml).toContain('<h2 id="rep-org">');
  });

  it('lets the admin keep reference data through the pages, refusing bad input in Russian', async () => {
    const c = client();
    await c.login(EMAIL.admin);
    const form = async (path: string) => c.token((await c.call('GET', path)).html);

    // The directory the recommendations page offers is kept between requests, and follows each write.
    expect((await h.api.db.repos.organizations.directory()).map((o) => o._id)).not.toContain('bakchar');
    const created = await c.call('POST', '/admin/organizations', {
      _csrf: await form('/admin/organizations'), code: 'bakchar', name: 'Бакчарский район', kind: 'municipality', coordinator: 'coord@bakchar.test\nsecond@bakchar.test', head: '',
    });
    expect(created.status).toBe(303);
    expect((await h.api.db.repos.organizations.get('bakchar'))?.contacts.coordinator).toEqual(['coord@bakchar.test', 'second@bakchar.test']);
    expect((await h.api.db.repos.organizations.directory()).find((o) => o._id === 'bakchar')?.name).toBe('Бакчарский район');
    await h.api.db.repos.organizations.update('bakchar', { name: 'Бакчарский муниципальный район' });
    expect((await h.api.db.repos.organizations.directory()).find((o) => o._id === 'bakchar')?.name).toBe('Бакчарский муниципальный район');
    await h.api.db.repos.organizations.update('bakchar', { name: 'Бакчарский район' });
    const badEmail = await c.call('POST', '/admin/organizations', { _csrf: await form('/admin/organizations'), code: 'x-org', name: 'Организация', kind: 'other', coordinator: 'not-an-address' });
    expect(badEmail.status).toBe(400);
    expect(badEmail.html).toContain('неверный адрес электронной почты');

    const group = await c.call('POST', '/admin/groups/pilot', { _csrf: await form('/admin/groups'), name: 'Пилотные районы', phrases: 'пилотным районам', members: 'bakchar' });
    expect(group.status).toBe(303);
    expect((await h.api.db.repos.organizations.get('bakchar'))?.groups).toEqual(['pilot']);

    const badPolicy = await c.call('POST', '/admin/policy', { _csrf: await form('/admin/policy'), policy: '{"remindBefore": ["через неделю"], "escalateAfter": []}' });
    expect(badPolicy.status).toBe(400);
    expect(badPolicy.html).toContain('не длительность ISO 8601');
    const policy = await c.call('POST', '/admin/policy', { _csrf: await form('/admin/policy'), policy: '{"remindBefore": ["P7D"], "escalateAfter": [{"after": "P1D", "to": "head"}]}' });
    expect(policy.status).toBe(303);
    expect((await h.request('GET', '/api/settings/notification-policy', { token: tokens.curator })).body).toEqual({ remindBefore: ['P7D'], escalateAfter: [{ after: 'P1D', to: 'head' }] });

    const year = await c.call('POST', '/admin/calendar', { _csrf: await form('/admin/calendar'), year: '2091', source: 'Постановление для проверки', daysOff: '2091-01-01\n2091-01-02', workingWeekends: '' });
    expect(year.status).toBe(303);
    const wrongYear = await c.call('POST', '/admin/calendar', { _csrf: await form('/admin/calendar'), year: '2092', source: 'Постановление для проверки', daysOff: '2091-05-01' });
    expect(wrongYear.status).toBe(400);
    expect(wrongYear.html).toContain('Календарь не сходится');

    const user = await c.call('POST', '/admin/users', { _csrf: await form('/admin/users'), email: 'new@bakchar.test', name: 'Координатор Бакчара', role: 'executor', organization: 'bakchar', password: PASSWORD });
    expect(user.status).toBe(303);
    const noOrg = await c.call('POST', '/admin/users', { _csrf: await form('/admin/users'), email: 'x@bakchar.test', name: 'Без организации', role: 'executor', organization: '', password: 'long-enough-pass' });
    expect(noOrg.status).toBe(400);
    expect(noOrg.html).toContain('исполнитель должен принадлежать организации');
    const entrant = client();
    expect(await entrant.login('new@bakchar.test')).toBe('/my');
    expect((await entrant.call('GET', '/my')).status).toBe(200);

    // Access closed on the page: the session already open ends with it.
    const id = (await h.api.db.repos.users.findByEmail('new@bakchar.test'))!._id;
    const closed = await c.call('POST', `/admin/users/${id}`, { _csrf: await form(`/admin/users/${id}`), name: 'Координатор Бакчара', role: 'executor', organization: 'bakchar' });
    expect(closed.status).toBe(303);
    expect((await entrant.call('GET', '/my')).status).toBe(303);
    await expect(client().login('new@bakchar.test')).rejects.toThrow(/401/);
    // An administrator cannot lock themselves out.
    const adminId = (await h.api.db.repos.users.findByEmail(EMAIL.admin))!._id;
    await c.call('POST', `/admin/users/${adminId}`, { _csrf: await form(`/admin/users/${adminId}`), name: 'Админ', role: 'curator', active: 'on' });
    expect((await h.api.db.repos.users.get(adminId))?.role).toBe('admin');

    // Without the form's token nothing is written.
    const forged = await c.call('POST', '/admin/organizations', { code: 'forged', name: 'Подделка', kind: 'other' });
    expect(forged.status).toBe(403);
    expect(await h.api.db.repos.organizations.get('forged')).toBeNull();
  });

  it('creates and issues from the form, with a policy of its own, and lists by addressee', async () => {
    const c = client();
    await c.login(EMAIL.curator);
    const fields = { kind: 'letter', number: '77', date: '2026-02-01', title: '', text: 'Рекомендация с политикой', assignees: 'org-b', due: '2099-11-30', recurrence: '' };
    const bad = await c.call('POST', '/recommendations/new', { _csrf: c.token((await c.call('GET', '/recommendations/new')).html), ...fields, policy: '{"remindBefore": ["завтра"]}' });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('Политика, remindBefore.0: «завтра» — не длительность ISO 8601');
    expect(bad.html).toContain('Рекомендация с политикой'); // what was typed comes back
    const policy = { remindBefore: ['P2D'], escalateAfter: [] };
    const ok = await c.call('POST', '/recommendations/new', { _csrf: c.token((await c.call('GET', '/recommendations/new')).html), ...fields, policy: JSON.stringify(policy) });
    expect(ok.status).toBe(303);
    const id = decodeURIComponent(ok.location!.split('/').pop()!);
    expect((await h.request('GET', `/api/recommendations/${id}`, { token: tokens.curator })).body).toMatchObject({ status: 'issued', assignees: ['org-b'], policy });

    const forB = await c.call('GET', '/recommendations?organization=org-b');
    expect(forB.html).toContain('Рекомендация с политикой');
    const forA = await c.call('GET', '/recommendations?organization=org-a');
    expect(forA.html).not.toContain('Рекомендация с политикой');
  });

  it('narrows the dashboard to a period of issue', async () => {
    const c = client();
    await c.login(EMAIL.curator);
    const all = await c.call('GET', '/dashboard');
    expect(all.html).toContain('Все поручения за всё время.');
    expect(all.html).toContain('Организация ORG-A');
    const past = await c.call('GET', '/dashboard?from=2001-01-01&to=2001-12-31');
    expect(past.html).toContain('Поручения, выданные 01.01.2001–31.12.2001.');
    expect(past.html).not.toContain('Организация ORG-A');
    expect(past.html).toContain('Поручений ещё нет.');
    const badPeriod = await c.call('GET', '/dashboard?from=2001-12-31&to=2001-01-01');
    expect(badPeriod.status).toBe(400);
    expect(badPeriod.html).toMatch(/id="period-error" role="alert">Неверный период/);
    expect(badPeriod.html).toContain('value="2001-12-31"');
  });

  it('pages long lists, 50 rows a page', async () => {
    // Read-model rows only (no workflows): 60 cycles of one recommendation for org-c.
    const repos = h.api.db.repos;
    const rec = await readModelRecommendation({ id: 'paging-test-rec', number: '1', date: '2026-01-01', text: 'Рекомендация для проверки страниц', assignees: ['org-c'], due: '2099-01-31' });
    for (let cycle = 1; cycle <= 60; cycle += 1) await repos.assignments.ensureIssued(rec, ['org-c'], { cycle, due: new Date(Date.UTC(2099, 0, cycle)) });
    await h.createUser('executor@org-c.test', 'executor', 'org-c');
    const c = client();
    await c.login('executor@org-c.test');
    const first = await c.call('GET', '/my');
    expect(first.html.match(/<tr class="">/g) ?? []).toHaveLength(50);
    expect(first.html).toContain('страница 1 из 2');
    expect(first.html).toContain('href="/my?page&#x3D;2"'); // Handlebars escapes '='
    const second = await c.call('GET', '/my?page=2');
    expect(second.html.match(/<tr class="">/g) ?? []).toHaveLength(10);
    expect(second.html).toContain('href="/my?page&#x3D;1"');
  });

  it('pages a recommendation of many addressees and the dashboard, 50 rows a page', async () => {
    const repos = h.api.db.repos;
    const codes = Array.from({ length: 55 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
    for (const code of codes) await repos.organizations.create({ _id: code, name: `Адресат ${code}`, kind: 'municipality', groups: [], contacts: { coordinator: [], head: [] } });
    const rec = await readModelRecommendation({ id: 'many-addressees-rec', number: '2', date: '2026-01-01', text: 'Рекомендация многим адресатам', assignees: codes, due: '2099-01-31' });
    await repos.assignments.ensureIssued(rec, codes);
    const c = client();
    await c.login(EMAIL.curator);
    const links = (html: string) => (html.match(/href="\/assignments\/many-addressees-rec\./g) ?? []).length;
    const first = await c.call('GET', `/recommendations/${rec._id}`);
    expect(links(first.html)).toBe(50);
    expect(first.html).toContain('Адресат many-00');
    expect(first.html).toContain('страница 1 из 2');
    const second = await c.call('GET', `/recommendations/${rec._id}?page=2`);
    expect(links(second.html)).toBe(5);
    expect(second.html).toContain('Адресат many-54');

    // The dashboard: worst first, 50 organisations a page, once the tallier has counted the rows.
    const orgRows = (html: string) => (html.match(/<th scope="row" data-label="Организация">/g) ?? []).length;
    const firstPage = await eventually(async () => {
      const page = await c.call('GET', '/dashboard');
      return page.html.includes('Адресат many-') && /\d+ организаци/.test(page.html) ? page : undefined;
    });
    expect(orgRows(firstPage.html)).toBe(50);
    const secondPage = await c.call('GET', '/dashboard?orgs=2');
    expect(orgRows(secondPage.html)).toBeGreaterThan(0);
    expect(orgRows(secondPage.html)).toBeLessThan(50);
    // Each organisation once over the two pages.
    const names = (html: string) => [...html.matchAll(/data-label="Организация">([^<]+)</g)].map((m) => m[1]);
    const all = [...names(firstPage.html), ...names(secondPage.html)];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining(codes.map((code) => `Адресат ${code}`)));

    // The report pages the same way; the .xlsx holds every organisation.
    const reportNames = (html: string) => [...html.matchAll(/data-label="Организация"><span class="clip">([^<]+)</g)].map((m) => m[1]);
    const period = 'from=2000-01-01&to=2099-12-31';
    const reportFirst = reportNames((await c.call('GET', `/reports/discipline?${period}`)).html);
    const reportSecond = reportNames((await c.call('GET', `/reports/discipline?${period}&orgs=2`)).html);
    expect(reportFirst).toHaveLength(50);
    expect(reportSecond.length).toBeGreaterThan(0);
    expect(new Set([...reportFirst, ...reportSecond]).size).toBe(reportFirst.length + reportSecond.length);
    expect([...reportFirst, ...reportSecond]).toEqual(expect.arrayContaining(codes.map((code) => `Адресат ${code}`)));
  });

  it('sends each role home from /', async () => {
    for (const [who, home] of [['executor', '/my'], ['curator', '/dashboard'], ['observer', '/dashboard']] as const) {
      const c = client();
      expect(await c.login(EMAIL[who])).toBe(home);
      expect((await c.call('GET', '/')).location).toBe(home);
    }
  });

  it('ends the session on the server at logout, and no private page stays in the browser for the Back button', async () => {
    const c = client();
    await c.login(EMAIL.executor);
    const page = await c.call('GET', '/my');
    expect(page.status).toBe(200);
    expect(page.cacheControl).toBe('no-store');
    expect((await c.call('GET', `/assignments/${own}`)).cacheControl).toBe('no-store');
    expect((await c.call('POST', '/logout', { _csrf: c.token(page.html) })).location).toBe('/login');
    // The same cookie again: the session it named is gone.
    expect((await c.call('GET', '/my')).status).toBe(303);
  });

  it('takes a recommendation text as long as its field allows, and gives it back when the form is refused', async () => {
    const c = client();
    await c.login(EMAIL.curator);
    const form = await c.call('GET', '/recommendations/new');
    expect(form.html).toContain('maxlength="20000"');
    const text = 'ж'.repeat(20_000);
    // No addressee: refused for that, with everything typed kept.
    const res = await c.call('POST', '/recommendations/new', { _csrf: c.token(form.html), kind: 'letter', number: '12', date: '2026-11-02', text, due: '2099-05-31' });
    expect(res.status).not.toBe(413);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.html).toContain(text);
    expect(res.html).toContain('value="12"');
    // A field over its limit is named, in Russian.
    const long = await c.call('POST', '/recommendations/new', { _csrf: c.token(form.html), kind: 'letter', number: '1'.repeat(51), date: '2026-11-02', text, due: '2099-05-31', assignees: 'org-a' });
    expect(long.status).toBe(400);
    expect(long.html).toContain('Номер: не длиннее 50 символов');
    expect(long.html).toContain(text);
  });

  it('leads staff back from an assignment to its recommendation, a page every staff role may open', async () => {
    for (const who of ['curator', 'observer', 'admin'] as const) {
      const c = client();
      await c.login(EMAIL[who]);
      const page = await c.call('GET', `/assignments/${own}`);
      const back = /<p class="crumbs"><a href="([^"]+)">← ([^<]+)<\/a>/.exec(page.html);
      expect({ who, back: back?.slice(1) }).toEqual({ who, back: [`/recommendations/${own.split('.')[0]}`, 'Рекомендация'] });
      expect({ who, status: (await c.call('GET', back![1])).status }).toEqual({ who, status: 200 });
    }
  });

  it('gives a refused form back as it was typed, with the reason beside it', async () => {
    const executor = client();
    await executor.login(EMAIL.executor);
    const at = `/assignments/${own}`;
    const reason = 'Нужно ещё <две> недели на сбор данных';
    const noDate = await executor.call('POST', `${at}/extension`, { _csrf: executor.token((await executor.call('GET', at)).html), until: '', reason });
    expect(noDate.status).toBe(400);
    expect(noDate.html).toMatch(/<p class="field-error" id="extend-error" role="alert">Укажите новую дату/);
    expect(noDate.html).toContain('aria-describedby="extend-error">Нужно ещё &lt;две&gt; недели на сбор данных</textarea>');
    const tooEarly = await executor.call('POST', `${at}/extension`, { _csrf: executor.token(noDate.html), until: '2099-01-01', reason });
    expect(tooEarly.status).toBeGreaterThanOrEqual(400);
    expect(tooEarly.html).toContain('value="2099-01-01"');
    expect(tooEarly.html).toContain('&lt;две&gt; недели на сбор данных</textarea>');
    const empty = await executor.call('POST', `${at}/submit`, { _csrf: executor.token(tooEarly.html), comment: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.html).toMatch(/id="submit-error" role="alert">Напишите комментарий или приложите файлы/);
    // Nothing was asked or sent.
    expect((await h.request('GET', `/api/assignments/${own}`, { token: tokens.curator })).body).toMatchObject({ status: 'issued', extension: null });
    // A date on a Saturday is asked as the Friday before, and the message says so.
    const onSaturday = await executor.call('POST', `${at}/extension`, { _csrf: executor.token(empty.html), until: '2099-10-31', reason: 'Нужно ещё две недели' });
    expect(onSaturday.status).toBe(303);
    expect((await executor.call('GET', at)).html).toContain('Запрос на продление срока до 30.10.2099 (31.10.2099 — нерабочий день) отправлен куратору');
    expect((await h.request('POST', `/api/assignments/${own}/extension-requests/decision`, { token: tokens.curator, json: { approve: false, comment: 'Срок остаётся' } })).status).toBe(200);

    const admin = client();
    await admin.login(EMAIL.admin);
    const orgForm = await admin.call('GET', '/admin/organizations/org-a');
    const badContact = await admin.call('POST', '/admin/organizations/org-a', { _csrf: admin.token(orgForm.html), name: 'Организация ORG-A (новое имя)', kind: 'municipality', coordinator: 'coord@org-a.test\nне-адрес', head: '' });
    expect(badContact.status).toBe(400);
    expect(badContact.html).toContain('неверный адрес электронной почты');
    expect(badContact.html).toContain('>coord@org-a.test\nне-адрес</textarea>');
    expect(badContact.html).toContain('value="Организация ORG-A (новое имя)"');
    expect((await h.api.db.repos.organizations.get('org-a'))?.name).toBe('Организация ORG-A');

    const executorId = (await h.api.db.repos.users.findByEmail(EMAIL.executor))!._id;
    const userForm = await admin.call('GET', `/admin/users/${executorId}`);
    const noOrg = await admin.call('POST', `/admin/users/${executorId}`, { _csrf: admin.token(userForm.html), name: 'Исполнитель с новым именем', role: 'executor', organization: '', active: 'on' });
    expect(noOrg.status).toBe(409);
    expect(noOrg.html).toContain('value="Исполнитель с новым именем"');
    expect(noOrg.html).toContain('Исполнитель должен принадлежать организации');

    const groupForm = await admin.call('GET', '/admin/groups/rural?new');
    const noName = await admin.call('POST', '/admin/groups/rural', { _csrf: admin.token(groupForm.html), name: '', phrases: 'сельским районам\nсёлам', members: 'org-b' });
    expect(noName.status).toBe(400);
    expect(noName.html).toContain('>сельским районам\nсёлам</textarea>');
    expect(noName.html).toMatch(/value="org-b" checked/);
    expect(await h.api.db.repos.groups.get('rural')).toBeNull();
  });

  it('asks before issuing from a document entered before or with a deadline past, and issues once confirmed', async () => {
    const c = client();
    await c.login(EMAIL.curator);
    const send = async (fields: Record<string, string>) => c.call('POST', '/recommendations/new', { _csrf: c.token((await c.call('GET', '/recommendations/new')).html), ...fields });
    const keyOf = (html: string) => (/name="acknowledge" value="([^"]*)"/.exec(html)?.[1] ?? '').replace(/&#x3D;/g, '=');
    const fields = { kind: 'letter', number: '941', date: '2020-09-25', title: '', text: 'Обеспечить участие педагогов в вебинаре', assignees: 'org-b', due: '2020-10-05', recurrence: '', policy: '' };
    const count = (text: string) => h.api.db.models.recommendations.countDocuments({ text });

    const past = await send(fields);
    expect(past.status).toBe(409);
    expect(past.html).toContain('Срок 05.10.2020 уже прошёл: адресаты сразу получат письмо «Срок истёк»');
    expect(past.html).toContain('Обеспечить участие педагогов в вебинаре</textarea>');
    expect(await count(fields.text)).toBe(0);
    const issued = await send({ ...fields, acknowledge: keyOf(past.html) });
    expect(issued.status).toBe(303);
    const firstId = decodeURIComponent(issued.location!.split('/').pop()!);

    // The same letter again, with a deadline ahead: it is registered already.
    const second = { ...fields, text: 'Другая рекомендация по тому же письму', due: '2099-12-01' };
    const registered = await send(second);
    expect(registered.status).toBe(409);
    expect(registered.html).toContain('Документ «письмо от 25.09.2020 № 941» уже зарегистрирован: по нему выдана 1 рекомендация');
    expect(registered.html).toContain(`<a href="/recommendations/${firstId}">Обеспечить участие педагогов в вебинаре</a>`);
    expect(registered.html).not.toContain('уже прошёл');
    // A confirmation of other warnings (the first form's) does not do.
    expect((await send({ ...second, acknowledge: keyOf(past.html) })).status).toBe(409);
    expect(await count(second.text)).toBe(0);
    expect((await send({ ...second, acknowledge: keyOf(registered.html) })).status).toBe(303);
    expect(await count(second.text)).toBe(1);
    // Another document, a deadline ahead: nothing to ask.
    expect((await send({ ...second, number: '942', text: 'По другому письму' })).status).toBe(303);
  });

  it('says where a deadline was worked out without its year’s calendar, and asks the administrator for it', async () => {
    // `own` is due 30.09.2099: no production calendar for 2099.
    const curator = client();
    await curator.login(EMAIL.curator);
    const card = await curator.call('GET', `/recommendations/${own.split('.')[0]}`);
    expect(card.html).toContain('Производственного календаря на 2099 год нет');
    expect(card.html).not.toContain('Добавить календарь');
    const preview = await fetch(`${h.api.url}/deadline-preview?date=2099-01-05`, { headers: { cookie: await cookieOf(EMAIL.curator), accept: 'application/json' } });
    expect(await preview.json()).toMatchObject({ dueDate: '2099-01-05', calendarKnown: false });
    const executor = client();
    await executor.login(EMAIL.executor);
    expect((await executor.call('GET', `/assignments/${own}`)).html).toContain('Производственного календаря на 2099 год нет');
    // Nobody but the administrator gets the banner.
    expect((await executor.call('GET', '/my')).html).not.toContain('Нет производственного календаря');
    // A deadline moved off a day off says from which.
    const saturday = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { source: { kind: 'letter', number: '2', date: '2026-01-11' }, text: 'Срок в субботу', assignees: ['org-a'], deadline: { due: '2099-10-31' } },
    });
    const moved = (await h.request('POST', `/api/recommendations/${saturday.body.id}/issue`, { token: tokens.curator })).body.assignments[0].id;
    await eventually(async () => ((await h.request('GET', `/api/assignments/${moved}`, { token: tokens.curator })).body.history?.length ? true : undefined));
    expect((await executor.call('GET', `/assignments/${moved}`)).html).toContain('<strong>30.10.2099</strong> (в документе 31.10.2099 — нерабочий день)');

    const admin = client();
    await admin.login(EMAIL.admin);
    const before = await admin.call('GET', '/admin');
    expect(before.html).toMatch(/Нет производственного календаря на [^<]*2099 (год|годы)/);
    const calendarForm = await admin.call('GET', '/admin/calendar');
    const entered = await admin.call('POST', '/admin/calendar', { _csrf: admin.token(calendarForm.html), year: '2099', source: 'Постановление для проверки', daysOff: '2099-01-01\n2099-01-02', workingWeekends: '' });
    expect(entered.status).toBe(303);
    expect((await admin.call('GET', '/admin')).html).not.toMatch(/Нет производственного календаря на [^<]*2099/);
    expect((await curator.call('GET', `/recommendations/${own.split('.')[0]}`)).html).not.toContain('Производственного календаря на 2099 год нет');
    const removed = await admin.call('POST', '/admin/calendar/2099/delete', { _csrf: admin.token((await admin.call('GET', '/admin/calendar')).html) });
    expect(removed.status).toBe(303);
    expect((await admin.call('GET', '/admin')).html).toMatch(/Нет производственного календаря на [^<]*2099/);
  });

  it('lists organisations in Russian alphabetical order of their names, and shows no codes', async () => {
    const { repos } = h.api.db;
    const org = (code: string, name: string) => repos.organizations.create({ _id: code, name, kind: 'municipality', groups: [], contacts: { coordinator: [], head: [] } });
    // Codes in the opposite order to the names.
    await org('aaa-yasnogorsk', 'Ясногорский район');
    await org('zzz-aleksandrovskoe', 'Александровский район');
    await org('mmm-yolkino', 'Ёлкинский район');
    const inOrder = (html: string) => ['Александровский район', 'Ёлкинский район', 'Организация ORG-A', 'Ясногорский район'].map((name) => html.indexOf(name));
    const ascending = (at: number[]) => at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]));

    const admin = client();
    await admin.login(EMAIL.admin);
    const list = await admin.call('GET', '/admin/organizations');
    expect(ascending(inOrder(list.html))).toBe(true);
    expect(list.html).not.toMatch(/>\s*aaa-yasnogorsk\s*</);
    expect(list.html).not.toContain('<span class="muted">org-a</span>');
    const curator = client();
    await curator.login(EMAIL.curator);
    expect(ascending(inOrder((await curator.call('GET', '/recommendations/new')).html))).toBe(true);
    expect(ascending(inOrder((await curator.call('GET', '/recommendations')).html))).toBe(true);
    // A card lists its addressees so too, and follows a renamed one.
    const created = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { source: { kind: 'letter', number: '8', date: '2026-02-02' }, text: 'Адресаты по алфавиту', assignees: ['aaa-yasnogorsk', 'mmm-yolkino', 'zzz-aleksandrovskoe'], deadline: { due: '2099-06-30' } },
    });
    expect((await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator })).status).toBe(200);
    const names = (html: string) => [...html.matchAll(/<td data-label="Организация">(?:<a [^>]*>)?([^<]+)/g)].map((m) => m[1]);
    const cardAt = `/recommendations/${created.body.id}`;
    expect(names((await curator.call('GET', cardAt)).html)).toEqual(['Александровский район', 'Ёлкинский район', 'Ясногорский район']);
    expect(names((await curator.call('GET', cardAt)).html)).toEqual(['Александровский район', 'Ёлкинский район', 'Ясногорский район']);
    await repos.organizations.update('aaa-yasnogorsk', { name: 'Асиновский район' });
    expect(names((await curator.call('GET', cardAt)).html)).toEqual(['Александровский район', 'Асиновский район', 'Ёлкинский район']);
    const report = await curator.call('GET', '/reports/discipline?from=2020-01-01&to=2099-12-31');
    expect(report.html).toMatch(/<span class="clip">(Организация ORG-|Адресат many-)/);
    expect(report.html).not.toMatch(/<span class="muted"> (org-[a-c]|many-\d+)<\/span>/);
  });

  it('shows one recommendation’s figures alike on its card, the dashboard and the report, the parts adding up to the whole', async () => {
    // Read-model rows only (no workflows): one addressee in each state there is.
    const { repos } = h.api.db;
    const states: Array<[string, Partial<AssignmentState>]> = [
      ['fig-on-time', { status: 'accepted', acceptedLate: false }],
      ['fig-late', { status: 'accepted', acceptedLate: true, overdue: true, returns: 1 }],
      ['fig-overdue', { status: 'issued', overdue: true }],
      ['fig-overdue-2', { status: 'returned', overdue: true, returns: 1 }],
      ['fig-review', { status: 'submitted', overdue: true }],
      ['fig-open', { status: 'issued' }],
      ['fig-withdrawn', { status: 'withdrawn' }],
    ];
    for (const [code] of states) await repos.organizations.create({ _id: code, name: `Адресат ${code}`, kind: 'municipality', groups: [], contacts: { coordinator: [], head: [] } });
    const text = 'Рекомендация, чьи цифры сходятся';
    const rec = await readModelRecommendation({
      id: 'figures-rec',
      number: '55',
      date: '2026-03-01',
      text,
      assignees: states.map(([code]) => code),
      due: '2026-06-30',
      issuedAt: new Date('2026-03-02T03:00:00Z'),
    });
    await repos.assignments.ensureIssued(rec, rec.assignees);
    const due = '2026-06-30T16:59:59.000Z';
    for (const [code, pick] of states) {
      await repos.assignments.project(`figures-rec.${code}.1`, { recommendationId: rec._id, organization: code, cycle: 1 }, {
        status: 'issued', due, originalDue: due, overdue: false, acceptedLate: null, extension: null, lastSubmission: null, submissions: 0, returns: 0, version: 5, ...pick,
      } as AssignmentState);
    }
    const c = client();
    await c.login(EMAIL.curator);
    // The card, once the worker's tallier has counted them.
    const figures = await eventually(async () => {
      const html = (await c.call('GET', '/recommendations/figures-rec')).html;
      const m = /выдано (\d+): в срок (\d+), с опозданием (\d+), просрочено (\d+), на проверке (\d+), в работе (\d+); отозвано (\d+)/.exec(html);
      return m && Number(m[1]) === 6 ? m.slice(1).map(Number) : undefined;
    }, 20_000, 'the card counted');
    const [issued, onTime, late, overdue, review, open, withdrawn] = figures;
    expect({ issued, onTime, late, overdue, review, open, withdrawn }).toEqual({ issued: 6, onTime: 1, late: 1, overdue: 2, review: 1, open: 1, withdrawn: 1 });
    expect(onTime + late + overdue + review + open).toBe(issued);
    expect(issued + withdrawn).toBe(states.length);

    // The dashboard's row of it: the same figures.
    const cells = (html: string, label: string) => {
      const row = html.split('<tr>').find((r) => r.includes(label))!;
      return Object.fromEntries([...row.matchAll(/<td data-label="([^"]+)">(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    };
    let page = 1;
    let dashboard = '';
    do dashboard = (await c.call('GET', `/dashboard?recs=${page++}`)).html;
    while (!dashboard.includes(text) && page < 20);
    expect(cells(dashboard, text)).toEqual({ 'В срок': onTime, 'С опозданием': late, Просрочено: overdue, 'На проверке': review, 'В работе': open, Выдано: issued });
    // And the report's, for this year so far (the rows were written today).
    let report = '';
    page = 1;
    do report = (await c.call('GET', `/reports/discipline?recs=${page++}`)).html;
    while (!report.includes(text) && page < 20);
    expect(cells(report, text)).toEqual({ Выдано: issued, 'В срок': onTime, 'С опозданием': late, Просрочено: overdue, Возвращалось: 2, Дисциплина: Math.round((onTime / (onTime + late + overdue)) * 100) });
    // The list of recommendations says the same.
    const listed = (await c.call('GET', '/recommendations')).html.split('<tr').find((r) => r.includes(text))!;
    expect(listed).toContain(`<td data-label="Поручения">${issued}, <span class="state state-overdue">просрочено ${overdue}</span>, на проверке ${review}</td>`);
  });

  it('shows an executor open work first, overdue on top, and what is closed apart', async () => {
    const { repos } = h.api.db;
    // Read-model rows only: an item of 2022 accepted late, one withdrawn, one open and overdue.
    const rec = await readModelRecommendation({ id: 'my-views-rec', kind: 'protocol', number: '5', date: '2022-05-31', text: 'Поручение для списка исполнителя', assignees: ['org-a'], due: '2022-09-30' });
    const due = (year: number) => `${year}-09-30T16:59:59.000Z`;
    const row = async (cycle: number, year: number, pick: Partial<AssignmentState>) => {
      await repos.assignments.ensureIssued(rec, ['org-a'], { cycle, due: new Date(due(year)) });
      await repos.assignments.project(`my-views-rec.org-a.${cycle}`, { recommendationId: rec._id, organization: 'org-a', cycle }, {
        status: 'issued', due: due(year), originalDue: due(year), overdue: false, acceptedLate: null, extension: null, lastSubmission: null, submissions: 1, returns: 0, version: 5, ...pick,
      } as AssignmentState);
    };
    await row(1, 2022, { status: 'accepted', overdue: true, acceptedLate: true });
    await row(2, 2023, { status: 'withdrawn' });
    await row(3, 2024, { status: 'issued', overdue: true });
    const executor = client();
    await executor.login(EMAIL.executor);
    const ids = (html: string) => [...html.matchAll(/href="\/assignments\/([^"]+)"/g)].map((m) => m[1]);
    const open = await eventually(async () => {
      const html = (await executor.call('GET', '/my')).html;
      return ids(html).includes('my-views-rec.org-a.3') ? html : undefined;
    }, 20_000, 'the open row listed');
    // Overdue open work on top; nothing closed.
    expect(ids(open)[0]).toBe('my-views-rec.org-a.3');
    expect(ids(open)).toContain(own);
    expect(ids(open)).not.toContain('my-views-rec.org-a.1');
    expect(ids(open)).not.toContain('my-views-rec.org-a.2');
    expect(open).toContain('<strong aria-current="page">В работе</strong>');
    expect(open).toContain('Сначала просроченные, затем по сроку.');
    const closed = (await executor.call('GET', '/my?show=closed')).html;
    expect(ids(closed)).toEqual(['my-views-rec.org-a.1', 'my-views-rec.org-a.2']);
    const all = (await executor.call('GET', '/my?show=all')).html;
    expect(new Set(ids(all))).toEqual(new Set([...ids(open), ...ids(closed)]));
  });

  it('withdraws only once the curator confirms it, keeping the reason typed when refused', async () => {
    const created = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { source: { kind: 'letter', number: '3', date: '2026-01-12' }, text: 'Рекомендация к отзыву', assignees: ['org-c'], deadline: { due: '2099-05-29' } },
    });
    const id = created.body.id as string;
    await h.request('POST', `/api/recommendations/${id}/issue`, { token: tokens.curator });
    const c = client();
    await c.login(EMAIL.curator);
    // The figures follow the rows a moment later (the worker's tallier).
    const card = await eventually(async () => {
      const page = await c.call('GET', `/recommendations/${id}`);
      return /<input type="checkbox" name="confirm" required> Да, отозвать: открытые поручения \(1\) закроются/.test(page.html) ? page : undefined;
    }, 20_000, 'the card counting the open assignment');
    const reason = 'Письмо отозвано <Департаментом>';
    const unconfirmed = await c.call('POST', `/recommendations/${id}/withdraw`, { _csrf: c.token(card.html), reason });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.html).toMatch(/id="withdraw-error" role="alert">Подтвердите отзыв/);
    expect(unconfirmed.html).toContain('>Письмо отозвано &lt;Департаментом&gt;</textarea>');
    expect((await h.request('GET', `/api/recommendations/${id}`, { token: tokens.curator })).body.status).toBe('issued');
    const confirmed = await c.call('POST', `/recommendations/${id}/withdraw`, { _csrf: c.token(unconfirmed.html), reason, confirm: 'on' });
    expect(confirmed.status).toBe(303);
    expect((await h.request('GET', `/api/recommendations/${id}`, { token: tokens.curator })).body.status).toBe('withdrawn');
  });

  it('shows the administrator who receives which email of an organisation: its contacts and its executors', async () => {
    const admin = client();
    await admin.login(EMAIL.admin);
    const page = (await admin.call('GET', '/admin/organizations/org-b')).html;
    const section = page.slice(page.indexOf('Кто получает письма'));
    expect(section).toContain('coordinator@org-b.test <span class="muted">(координатор)</span>');
    expect(section).toMatch(/executor@org-b\.test <span class="muted">\(исполнитель, [^)]+\)<\/span>/);
    expect(section).toContain('head@org-b.test <span class="muted">(руководитель)</span>');
    // An organisation nobody would hear from says so.
    await h.api.db.repos.organizations.create({ _id: 'silent-org', name: 'Организация без адресов', kind: 'other', groups: [], contacts: { coordinator: [], head: [] } });
    expect((await admin.call('GET', '/admin/organizations/silent-org')).html).toContain('никто: добавьте координатора или пользователя-исполнителя');
  });

  it('never follows ?next= off the site', async () => {
    const c = client();
    const form = await c.call('GET', '/login?next=//evil.test/x');
    expect(form.html).not.toContain('evil.test');
    const res = await c.call('POST', '/login', { _csrf: c.token(form.html), email: EMAIL.curator, password: PASSWORD, next: 'https://evil.test/' });
    expect(res.location).toBe('/dashboard');
  });

  it('escapes what people typed', async () => {
    const created = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { source: { kind: 'letter', number: '2', date: '2026-01-10' }, text: 'Текст <script>alert(1)</script>', assignees: ['org-a'], deadline: { due: '2099-09-30' } },
    });
    const id = (await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator })).body.assignments[0].id;
    const c = client();
    await c.login(EMAIL.executor);
    const page = await eventually(async () => {
      const res = await c.call('GET', `/assignments/${id}`);
      return res.status === 200 ? res : undefined;
    });
    expect(page.html).toContain('Текст &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.html).not.toContain('<script>alert(1)</script>');
  });
});
