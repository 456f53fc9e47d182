/**
 * Pages while the store is out: a person gets a Russian error page that says the service will be
 * back, with Retry-After and a way to try again, not the JSON API's error or a bare 500. The
 * harness's connection is closed under a signed-in session (its own harness: nothing after it).
 */
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('pages-outage', { worker: false });
  await h.seedUsers();
});
afterAll(() => h?.stop().catch(() => undefined));

it('answers a page and a form with a 503 page in Russian while the store is out', async () => {
  const cookie = await h.pageCookie('curator@kontrol.test');
  const before = await fetch(`${h.api.url}/dashboard`, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
  expect(before.status).toBe(200);

  await h.api.db.connection.close();

  const page = await fetch(`${h.api.url}/dashboard?orgs=2`, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
  expect(page.status).toBe(503);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(page.headers.get('retry-after')).toBe('5');
  const html = await page.text();
  expect(html).toContain('<h1>Сервис временно недоступен</h1>');
  expect(html).toContain('Служба временно недоступна. Повторите через несколько секунд');
  expect(html).toContain('<a href="/dashboard?orgs&#x3D;2">Повторить</a>');

  const form = await fetch(`${h.api.url}/recommendations/new`, {
    method: 'POST',
    headers: { cookie, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
    body: 'text=%D0%A2%D0%B5%D0%BA%D1%81%D1%82',
    redirect: 'manual',
  });
  expect(form.status).toBe(503);
  const formHtml = await form.text();
  expect(formHtml).toContain('Отправленное не сохранено');
  expect(formHtml).not.toContain('Повторить</a>');
});
