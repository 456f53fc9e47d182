/**
 * Every page of every role in a real browser (Debian's Chromium), at a phone's width (390 px) and
 * a laptop's (1366 px): no page is wider than the window, and axe-core finds no serious or
 * critical accessibility problem (WCAG 2.1 A and AA rules). The data is what makes pages wide: a
 * comment of 10,000 characters without a space, a long organisation name, an import's drafts.
 * A screenshot of each page at 390 px goes to test-results/.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually, PASSWORD, startHarness, type Harness } from '../support/harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '../../test-results');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WIDTHS = [390, 1366];

let h: Harness;
let browser: Browser;
/** Pages by who opens them, each a path. */
let pages: Record<'executor' | 'curator' | 'observer' | 'admin', Array<[name: string, path: string]>>;

beforeAll(async () => {
  h = await startHarness('every-page');
  const tokens = await h.seedUsers();
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-features=Translate,OptimizationHints,MediaRouter'],
  });
  await h.api.db.repos.organizations.update('org-a', {
    name: 'Управление образования Администрации Томского района Томской области (муниципальное казённое учреждение)',
  });
  await h.request('PUT', '/api/groups/municipal-education-authorities', {
    token: tokens.admin,
    json: { name: 'Органы местного самоуправления, осуществляющие управление в сфере образования', phrases: ['муниципальные координаторы'], members: ['org-a', 'org-b', 'org-c'] },
  });

  // One recommendation to all three: org-a sends a report with an unbroken 10,000-character
  // comment, org-b asks for more time.
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: {
      source: { kind: 'protocol', number: '5', date: '2022-05-31', title: 'Протокол заседания Коллегии Департамента общего образования Томской области' },
      text: 'Сформировать муниципальные педагогические команды учителей-предметников, обеспечить на системной основе их участие в подготовке обучающихся к олимпиадам',
      assignees: ['org-a', 'org-b', 'org-c'],
      deadline: { due: '2099-09-30' },
    },
  });
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  const idOf = (org: string) => issued.body.assignments.find((a: { organization: string }) => a.organization === org).id as string;
  for (const org of ['org-a', 'org-b']) {
    await eventually(async () => ((await h.request('GET', `/api/assignments/${idOf(org)}`, { token: tokens.curator })).body.history?.length ? true : undefined));
  }
  const form = new FormData();
  form.append('comment', 'Ж'.repeat(10_000));
  form.append('files', new Blob([Buffer.from('%PDF приказ')], { type: 'application/pdf' }), `Приказ_${'о_составе_команд_'.repeat(8)}.pdf`);
  expect((await h.request('POST', `/api/assignments/${idOf('org-a')}/submissions`, { token: tokens.executor, form })).status).toBe(200);
  const asked = await h.request('POST', `/api/assignments/${idOf('org-b')}/extension-requests`, {
    token: tokens.otherExecutor,
    json: { until: '2099-12-30', reason: `Нужно время: ${'сведения_от_всех_школ_'.repeat(20)}` },
  });
  expect(asked.status).toBe(200);
  const read = await h.request('POST', '/api/imports/protocol', {
    token: tokens.curator,
    json: { text: readFileSync(path.resolve(__dirname, '../fixtures/letters/000_f5c9a93b07d8db0d.txt'), 'utf8') },
  });
  expect(read.status).toBe(201);
  const executorId = (await h.api.db.repos.users.findByEmail('executor@org-a.test'))!._id;

  const rec = `/recommendations/${created.body.id}`;
  const submitted = `/assignments/${idOf('org-a')}`;
  const staff: Array<[string, string]> = [
    ['dashboard', '/dashboard'],
    ['recommendations', '/recommendations'],
    ['recommendation', rec],
    ['report', '/reports/discipline'],
    ['assignment-submitted', submitted],
    ['assignment-extension', `/assignments/${idOf('org-b')}`],
  ];
  const curator: Array<[string, string]> = [
    ...staff,
    ['review', '/review'],
    ['extensions', '/extensions'],
    ['recommendation-new', '/recommendations/new'],
    ['import-new', '/imports/new'],
    ['import-drafts', `/imports/${read.body.id}`],
  ];
  pages = {
    executor: [
      ['my', '/my'],
      ['assignment', submitted],
    ],
    curator,
    observer: staff,
    admin: [
      ...curator,
      ['admin', '/admin'],
      ['organizations', '/admin/organizations'],
      ['organization', '/admin/organizations/org-a'],
      ['users', '/admin/users'],
      ['user', `/admin/users/${executorId}`],
      ['groups', '/admin/groups'],
      ['group', '/admin/groups/municipal-education-authorities'],
      ['policy', '/admin/policy'],
      ['calendar', '/admin/calendar'],
      ['outbox', '/admin/outbox'],
    ],
  };
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

const EMAIL = { executor: 'executor@org-a.test', curator: 'curator@kontrol.test', observer: 'observer@kontrol.test', admin: 'admin@kontrol.test' } as const;

async function signIn(email: string | null, width: number): Promise<Page> {
  // axe is put into each page as a script: the pages' own policy would refuse it.
  const context = await browser.newContext({ viewport: { width, height: 800 }, locale: 'ru-RU', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${h.api.url}/login`);
  if (!email) return page;
  await page.getByLabel('Адрес электронной почты').fill(email);
  await page.getByLabel('Пароль').fill(PASSWORD);
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  return page;
}

/**
 * In the page (a string: the tests compile without the DOM's types): how wide the document is, the
 * window, and the element that sticks out furthest, to say what to mend.
 */
const MEASURE = `(() => {
  let widest = '';
  let right = window.innerWidth;
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > right + 1) {
      right = box.right;
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      widest = el.tagName.toLowerCase() + cls + ' (' + Math.round(box.right) + ' px)';
    }
  }
  return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth, widest };
})()`;

/** axe-core's findings under the WCAG 2.1 A and AA rules, in the page. */
const AUDIT = `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((result) =>
  result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`;

/** What is wrong with the page as shown: wider than the window, or axe's serious and critical findings. */
async function problemsOf(page: Page): Promise<string[]> {
  const problems: string[] = [];
  const { scroll, inner, widest } = await page.evaluate<{ scroll: number; inner: number; widest: string }>(MEASURE);
  if (scroll > inner) problems.push(`${scroll} px wide in a ${inner} px window: ${widest}`);
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate<Array<{ id: string; impact: string; help: string; targets: string[] }>>(AUDIT);
  for (const v of violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) problems.push(`axe ${v.impact} ${v.id}: ${v.help} — ${v.targets.join(', ')}`);
  return problems;
}

describe.each(WIDTHS)('at %i px', (width) => {
  it.each(['executor', 'curator', 'observer', 'admin'] as const)('every page of the %s fits and passes axe', async (role) => {
    const page = await signIn(EMAIL[role], width);
    const found: Record<string, string[]> = {};
    for (const [name, at] of pages[role]) {
      const res = await page.goto(`${h.api.url}${at}`);
      expect({ name, status: res?.status() }).toEqual({ name, status: 200 });
      const problems = await problemsOf(page);
      if (problems.length > 0) found[name] = problems;
      if (width === WIDTHS[0]) await page.screenshot({ path: path.join(SHOTS, `${width}-${role}-${name}.png`), fullPage: true });
    }
    expect(found).toEqual({});
    await page.context().close();
  });

  it('the login page and the page for a missing one fit and pass axe too', async () => {
    const page = await signIn(null, width);
    const found: Record<string, string[]> = {};
    for (const [name, at] of [
      ['login', '/login'],
      ['not-found', '/assignments/none.org-a.1'],
    ]) {
      await page.goto(`${h.api.url}${at}`);
      const problems = await problemsOf(page);
      if (problems.length > 0) found[name] = problems;
    }
    expect(found).toEqual({});
    await page.context().close();
  });
});
