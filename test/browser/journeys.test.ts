/**
 * The pages in a real browser (Debian's Chromium through playwright-core) against the real stack:
 * a municipal coordinator finds the overdue assignment and sends evidence with two files, a curator
 * returns it with a comment, the coordinator reads the comment and sends again, the curator accepts,
 * and the dashboard shows it done late. A screenshot of each main page goes to test-results/.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually, PASSWORD, startHarness, type Harness } from '../support/harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '../../test-results');

let h: Harness;
let browser: Browser;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;
let assignmentId: string;

beforeAll(async () => {
  h = await startHarness('browser');
  tokens = await h.seedUsers();
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Off the network: no component updates, no crash reports, no background fetches.
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-features=Translate,OptimizationHints,MediaRouter'],
  });

  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: {
      source: { kind: 'protocol', number: '5', date: '2022-05-31', title: 'Протокол заседания Коллегии' },
      text: 'Сформировать муниципальные педагогические команды учителей-предметников',
      assignees: ['org-a', 'org-b'],
      deadline: { due: new Date(Date.now() + 1500).toISOString() },
      policy: { remindBefore: [], escalateAfter: [] },
    },
  });
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  assignmentId = issued.body.assignments.find((a: { organization: string }) => a.organization === 'org-a').id;
  await eventually(async () => ((await h.request('GET', `/api/assignments/${assignmentId}`, { token: tokens.curator })).body.overdue ? true : undefined), 20_000, 'overdue');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

async function signIn(email: string, width = 1280): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: 'ru-RU' });
  const page = await context.newPage();
  await page.goto(`${h.api.url}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel('Адрес электронной почты').fill(email);
  await page.getByLabel('Пароль').fill(PASSWORD);
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  return page;
}

/** The group of the three test organisations, as the letters name their addressees (a PUT: made once, kept). */
async function ensureGroup() {
  const group = await h.request('PUT', '/api/groups/municipal-education-authorities', {
    token: tokens.admin,
    json: { name: 'Органы местного самоуправления, осуществляющие управление в сфере образования', phrases: ['муниципальные координаторы'], members: ['org-a', 'org-b', 'org-c'] },
  });
  expect(group.status).toBe(200);
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Выйти' }).click();
  await page.waitForURL(/\/login/);
  await page.context().close();
}

describe('pages in a browser', () => {
  it('refuses a wrong password in Russian and keeps the address typed', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.api.url}/login`);
    await page.getByLabel('Адрес электронной почты').fill('executor@org-a.test');
    await page.getByLabel('Пароль').fill('wrong-password');
    await page.getByRole('button', { name: 'Войти' }).click();
    await expectText(page.getByRole('alert'), 'Неверный адрес электронной почты или пароль');
    expect(await page.getByLabel('Адрес электронной почты').inputValue()).toBe('executor@org-a.test');
    await shot(page, '01-login-refused');
    await context.close();
  });

  it('walks the coordinator and the curator through submit, return, resubmit and accept', async () => {
    // The coordinator: the overdue assignment first, sent with two files.
    let page = await signIn('executor@org-a.test');
    await page.waitForURL(/\/my$/);
    const first = page.locator('table.list tbody tr').first();
    await expectText(first, 'просрочено');
    await shot(page, '02-executor-home');
    await first.getByRole('link').click();
    await page.waitForURL(/\/assignments\//);
    await page.getByLabel('Что сделано').fill('Команды сформированы, приказы прилагаются');
    await page.getByLabel(/^Файлы/).setInputFiles([
      { name: 'Приказ № 12.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 приказ') },
      { name: 'Список команд.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: Buffer.alloc(200_000, 1) },
    ]);
    await page.getByRole('button', { name: 'Отправить на проверку' }).click();
    await expectText(page.getByRole('status').first(), 'Отчёт отправлен на проверку (2');
    await expectText(page.locator('.files'), 'Приказ № 12.pdf');
    await expectText(page.locator('.files'), 'Список команд.xlsx');
    await shot(page, '03-assignment-submitted');
    await signOut(page);

    // The curator: the review queue, then a return with a comment.
    page = await signIn('curator@kontrol.test');
    await page.waitForURL(/\/dashboard$/);
    await page.getByRole('link', { name: 'На проверке' }).click();
    await expectText(page.locator('table.list'), 'Организация ORG-A');
    await shot(page, '04-review-queue');
    await page.locator('table.list tbody tr').first().getByRole('link').click();
    // The files download through the page session.
    const download = await page.request.get(await page.locator('.files a').first().getAttribute('href').then((href) => `${h.api.url}${href}`));
    expect(download.status()).toBe(200);
    expect((await download.body()).toString()).toBe('%PDF-1.4 приказ');
    await page.getByRole('button', { name: 'Вернуть на доработку' }).click();
    await expectText(page.getByRole('alert'), 'При возврате на доработку напишите, что исправить');
    await page.getByLabel(/^Комментарий/).fill('Нет приказа о составе команд по физике');
    await page.getByRole('button', { name: 'Вернуть на доработку' }).click();
    await expectText(page.getByRole('status').first(), 'Отчёт возвращён на доработку');
    await shot(page, '05-curator-returned');
    await signOut(page);

    // The coordinator reads the comment and sends again.
    page = await signIn('executor@org-a.test', 390);
    await page.goto(`${h.api.url}/assignments/${assignmentId}`);
    await expectText(page.locator('.review-return'), 'Нет приказа о составе команд по физике');
    await page.getByLabel('Что сделано').fill('Добавлен приказ по физике');
    await page.getByLabel(/^Файлы/).setInputFiles([{ name: 'Приказ по физике.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF физика') }]);
    await page.getByRole('button', { name: 'Отправить на проверку' }).click();
    await expectText(page.getByRole('status').first(), 'Отчёт отправлен на проверку');
    await shot(page, '06-executor-resubmitted-phone');
    await signOut(page);

    // The curator accepts; the dashboard shows the organisation done late.
    page = await signIn('curator@kontrol.test');
    await page.goto(`${h.api.url}/assignments/${assignmentId}`);
    await page.getByRole('button', { name: 'Принять' }).click();
    await expectText(page.getByRole('status').first(), 'Отчёт принят');
    await page.getByRole('link', { name: 'Сводка' }).click();
    await shot(page, '07-dashboard');
    const row = page.locator('#by-org ~ table tbody tr', { hasText: 'Организация ORG-A' });
    // The figures follow the rows by a pass of the tallier (store/tallies.ts): a moment after the
    // acceptance, as a curator reloading the page would see them.
    await eventually(
      async () => {
        const late = await row.locator('[data-label="С опозданием"]').first().textContent({ timeout: 1_000 }).catch(() => null);
        if (late?.includes('1')) return true;
        await page.reload();
        return undefined;
      },
      15_000,
      'the dashboard to count the late acceptance',
    );
    await shot(page, '07-dashboard');
    await signOut(page);

    const final = await h.request('GET', `/api/assignments/${assignmentId}`, { token: tokens.curator });
    expect(final.body).toMatchObject({ status: 'accepted', acceptedLate: true, submissions: 2, returns: 1 });

    // The report shows it too, on the page and in the .xlsx file.
    page = await signIn('observer@kontrol.test');
    await page.getByRole('link', { name: 'Дисциплина' }).click();
    const reportRow = page.locator('#rep-org ~ table tbody tr', { hasText: 'Организация ORG-A' }).first();
    await expectText(reportRow.locator('[data-label="С опозданием"]'), '1');
    await expectText(reportRow.locator('[data-label="Возвращалось"]'), '1');
    await shot(page, '08-report');
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Скачать .xlsx' }).click()]);
    expect(xlsx.suggestedFilename()).toMatch(/^Дисциплина .*\.xlsx$/);
    await signOut(page);
  });

  it('lets a curator issue from the form and from a pasted letter', async () => {
    await ensureGroup();
    const page = await signIn('curator@kontrol.test');

    // The form: a group of addressees, a deadline on a Saturday moved to the Friday before.
    await page.goto(`${h.api.url}/recommendations/new`);
    await page.getByLabel('Номер').fill('766');
    await page.getByLabel('Дата', { exact: true }).fill('2022-08-26');
    await page.getByLabel('Текст рекомендации').fill('Провести обновление сети межмуниципальных центров по работе с одаренными детьми');
    await page.getByLabel(/Органы местного самоуправления/).check();
    await page.getByLabel('Срок').fill('2099-10-31'); // a Saturday
    await page.getByLabel('Срок').dispatchEvent('change');
    await expectText(page.locator('#due-preview'), '31.10.2099 — нерабочий день: срок 30.10.2099');
    await shot(page, '09-recommendation-new');
    await page.getByRole('button', { name: 'Создать и выдать' }).click();
    await expectText(page.getByRole('status').first(), 'Рекомендация выдана 3 адресатам');
    await expectText(page.locator('.facts'), '30.10.2099');
    await shot(page, '10-recommendation');

    // The import: the seed letter pasted, three drafts, all confirmed.
    await page.goto(`${h.api.url}/imports/new`);
    await page.getByLabel('Текст документа').fill(readFileSync(path.resolve(__dirname, '../fixtures/letters/000_f5c9a93b07d8db0d.txt'), 'utf8'));
    await page.getByRole('button', { name: 'Прочитать' }).click();
    await page.waitForURL(/\/imports\/[\w-]+$/);
    expect(await page.locator('fieldset.item').count()).toBe(3);
    expect(await page.getByLabel('Номер').inputValue()).toBe('5');
    expect(await page.locator('#due-2').inputValue()).toBe('2023-09-30');
    expect(await page.locator('#recurrence-2').inputValue()).toBe('yearly');
    // Two of its deadlines are past: said before anything is issued, and confirmed.
    await expectText(page.locator('.warning'), 'Срок 30.09.2022 уже прошёл');
    await shot(page, '11-import-drafts');
    await page.getByLabel('Всё верно, выдать').check();
    await page.getByRole('button', { name: 'Подтвердить и выдать отмеченные' }).click();
    await expectText(page.getByRole('status').first(), 'Выдано рекомендаций: 3, поручений: 9');
    await shot(page, '12-import-confirmed');
    await page.context().close();
  });

  it('acts once when a button is double-clicked: issuing from the form, confirming an import, sending evidence', async () => {
    const { models } = h.api.db;
    await ensureGroup();
    const page = await signIn('curator@kontrol.test');
    await page.goto(`${h.api.url}/recommendations/new`);
    await page.getByLabel('Номер').fill('941');
    await page.getByLabel('Дата', { exact: true }).fill('2020-09-25');
    const text = 'Обеспечить участие педагогов в вебинаре: двойной щелчок';
    await page.getByLabel('Текст рекомендации').fill(text);
    await page.getByLabel(/Органы местного самоуправления/).check();
    await page.getByLabel('Срок').fill('2099-11-30');
    await doubleClick(page.getByRole('button', { name: 'Создать и выдать' }));
    // The card it was issued from (its message may be gone: the two requests share one session).
    await reached(page, /^\/recommendations\/(?!new$)[\w-]+$/);
    await expectText(page.locator('.rec-text'), text);
    const created = await models.recommendations.find({ text }, { _id: 1 }).lean();
    expect(created).toHaveLength(1);
    expect(await models.assignments.countDocuments({ recommendationId: created[0]._id })).toBe(3);

    const importsBefore = await models.imports.countDocuments({});
    await page.goto(`${h.api.url}/imports/new`);
    await page.getByLabel('Текст документа').fill(readFileSync(path.resolve(__dirname, '../fixtures/letters/000_f5c9a93b07d8db0d.txt'), 'utf8'));
    await doubleClick(page.getByRole('button', { name: 'Прочитать' }));
    await reached(page, /^\/imports\/(?!new$)[\w-]+$/);
    expect(await models.imports.countDocuments({})).toBe(importsBefore + 1);
    const recommendationsBefore = await models.recommendations.countDocuments({});
    // The same letter as before: its document is registered, and the page says so before issuing.
    await expectText(page.locator('.warning'), 'Документ «протокол от 31.05.2022 № 5» уже зарегистрирован: по нему выданы 3 рекомендации');
    await page.getByLabel('Всё верно, выдать').check();
    await doubleClick(page.getByRole('button', { name: 'Подтвердить и выдать отмеченные' }));
    // All three issued, and after a moment still only those three.
    await eventually(async () => ((await models.recommendations.countDocuments({})) >= recommendationsBefore + 3 ? true : undefined));
    await page.waitForLoadState('load');
    await page.waitForTimeout(1_000);
    expect(await models.recommendations.countDocuments({})).toBe(recommendationsBefore + 3);
    await page.context().close();

    await h.createUser('executor@org-c.test', 'executor', 'org-c');
    const executor = await signIn('executor@org-c.test');
    const own = (await models.assignments.findOne({ recommendationId: created[0]._id, organization: 'org-c' }, { _id: 1 }).lean())!._id;
    await eventually(async () => ((await h.request('GET', `/api/assignments/${own}`, { token: tokens.curator })).body.history?.length ? true : undefined));
    await executor.goto(`${h.api.url}/assignments/${own}`);
    await executor.getByLabel('Что сделано').fill('Педагоги участвовали');
    await executor.getByLabel(/^Файлы/).setInputFiles([{ name: 'Список участников.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF список') }]);
    await doubleClick(executor.getByRole('button', { name: 'Отправить на проверку' }));
    await eventually(async () => ((await models.evidence.countDocuments({ assignmentId: own })) > 0 ? true : undefined));
    await executor.waitForLoadState('load');
    await executor.waitForTimeout(1_000);
    expect(await models.evidence.countDocuments({ assignmentId: own })).toBe(1);
    await executor.context().close();
  });

  it('shows another organisation’s assignment to nobody: the same 404 as for none at all', async () => {
    const page = await signIn('executor@org-b.test');
    const res = await page.goto(`${h.api.url}/assignments/${assignmentId}`);
    expect(res?.status()).toBe(404);
    await expectText(page.getByRole('alert'), 'Поручение не найдено');
    const none = await page.goto(`${h.api.url}/assignments/nope.org-b.1`);
    expect(none?.status()).toBe(404);
    await page.context().close();
  });

  it('refuses a file over the limit in the page, before anything is sent, keeping what was typed', async () => {
    const page = await signIn('executor@org-b.test');
    const own = (await h.api.db.models.assignments.findOne({ organization: 'org-b', status: 'issued' }, { _id: 1 }).lean())!._id;
    await page.goto(`${h.api.url}/assignments/${own}`);
    const posts: string[] = [];
    page.on('request', (r) => void (r.method() === 'POST' && posts.push(r.url())));
    const limit = Number(await page.locator('form[data-upload]').getAttribute('data-max-file-bytes'));
    expect(limit).toBeGreaterThan(0);
    await page.getByLabel('Что сделано').fill('Отчёт со слишком большим сканом');
    await page.getByLabel(/^Файлы/).setInputFiles([
      { name: 'Скан протокола.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(limit + 1) },
      { name: 'Приказ.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF приказ') },
    ]);
    // Said as soon as the file is chosen, and again on sending, which sends nothing.
    await expectText(page.locator('.upload-status'), 'Файл «Скан протокола.pdf» больше');
    await page.getByRole('button', { name: 'Отправить на проверку' }).click();
    await expectText(page.getByRole('alert'), 'Ничего не отправлено');
    expect(await page.locator('.upload-status').getAttribute('class')).toContain('upload-error');
    expect(await page.locator('progress').isHidden()).toBe(true);
    expect(await page.getByLabel('Что сделано').inputValue()).toBe('Отчёт со слишком большим сканом');
    await shot(page, '13-upload-refused');
    expect(posts).toEqual([]);
    expect(await h.api.db.models.evidence.countDocuments({ assignmentId: own })).toBe(0);
    await page.context().close();
  });

  it('refuses a form posted without the session’s CSRF token', async () => {
    const page = await signIn('curator@kontrol.test');
    const res = await page.request.post(`${h.api.url}/assignments/${assignmentId}/review`, { form: { decision: 'accept' }, maxRedirects: 0 });
    expect({ status: res.status(), body: res.status() === 403 ? '' : await res.text() }).toEqual({ status: 403, body: '' });
    await page.context().close();
  });
});

/**
 * Two clicks as a person makes them, a tenth of a second apart: by the second the first request is
 * on its way (Playwright's dblclick comes so fast that the browser drops the first submission
 * before it is sent).
 */
async function doubleClick(locator: import('playwright-core').Locator) {
  await locator.scrollIntoViewIfNeeded();
  const box = (await locator.boundingBox())!;
  const page = locator.page();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForTimeout(100);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

/** Waits for the page to be at a path and loaded; a navigation a second click aborted is no failure. */
async function reached(page: Page, path: RegExp) {
  await eventually(async () => (path.test(new URL(page.url()).pathname) ? true : undefined), 15_000, `page ${path}`);
  await page.waitForLoadState('load');
}

async function expectText(locator: import('playwright-core').Locator, text: string) {
  await locator.first().waitFor({ timeout: 10_000 });
  await eventually(async () => ((await locator.first().textContent())?.includes(text) ? true : undefined), 10_000, `«${text}»`);
}
