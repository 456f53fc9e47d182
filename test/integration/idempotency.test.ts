/**
 * Requests sent twice act once (api/idempotency.ts): an API call with the same Idempotency-Key,
 * a page form with the same `_idem` (a double click), at once or one after the other. The repeat
 * gets the first answer; a refused request gives its key back; a key is the user's own; the same
 * key for another request is refused. Every form a page shows that changes something carries a key.
 */
import { eventually, PASSWORD, startHarness, type Harness } from '../support/harness';

let h: Harness;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;
beforeAll(async () => {
  h = await startHarness('idempotency');
  tokens = await h.seedUsers();
});
afterAll(() => h?.stop());

const NEW_REC = { source: { kind: 'letter', number: '77', date: '2026-11-02' }, text: 'Провести мониторинг дважды не нужно', assignees: ['org-a', 'org-b'], deadline: { due: '2099-03-31' } };

const recommendationsWith = async (text: string) =>
  (await h.api.db.models.recommendations.find({ text }, { _id: 1 }).lean()).map((r) => r._id);

describe('the JSON API', () => {
  it('creates once for a key sent twice at once and again later, and says the later answers are replays', async () => {
    const text = 'Создать один раз по ключу';
    const send = () => h.request('POST', '/api/recommendations', { token: tokens.curator, json: { ...NEW_REC, text }, headers: { 'idempotency-key': 'create-once-1' } });
    const [a, b] = await Promise.all([send(), send()]);
    const c = await send();
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect(new Set([a.body.id, b.body.id, c.body.id]).size).toBe(1);
    expect(await recommendationsWith(text)).toEqual([a.body.id]);
    expect([a, b, c].filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(2);
  });

  it('answers a repeated issue call with its key from the first answer', async () => {
    const created = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: { ...NEW_REC, text: 'Выдать один раз' } });
    const issue = () => h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator, headers: { 'idempotency-key': `issue-${created.body.id}` } });
    const [first, second] = await Promise.all([issue(), issue()]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect([first, second].filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(1);
    expect(await h.api.db.models.assignments.countDocuments({ recommendationId: created.body.id })).toBe(2);
  });

  it('refuses the same key for another request, and a malformed key, in Russian', async () => {
    const headers = { 'idempotency-key': 'reused-key' };
    const first = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: { ...NEW_REC, text: 'Первый запрос с ключом' }, headers });
    expect(first.status).toBe(201);
    const other = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: { ...NEW_REC, text: 'Другой запрос с тем же ключом' }, headers });
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', message: 'Этот ключ идемпотентности уже использован для другого запроса' });
    expect(await recommendationsWith('Другой запрос с тем же ключом')).toEqual([]);

    for (const bad of ['has a space', 'x'.repeat(256)]) {
      const res = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: NEW_REC, headers: { 'idempotency-key': bad } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_idempotency_key');
    }
  });

  it('gives the key back when the request is refused, so the corrected request goes through', async () => {
    const headers = { 'idempotency-key': 'refused-then-fixed' };
    const refused = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: { ...NEW_REC, text: 'ок', assignees: [] }, headers });
    expect(refused.status).toBe(400);
    const fixed = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: { ...NEW_REC, text: 'Исправленный запрос проходит' }, headers });
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
  });

  it('keeps each user\'s keys apart', async () => {
    const headers = { 'idempotency-key': 'shared-looking-key' };
    const curator = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: { ...NEW_REC, text: 'Ключ куратора' }, headers });
    const admin = await h.request('POST', '/api/recommendations', { token: tokens.admin, json: { ...NEW_REC, text: 'Ключ администратора' }, headers });
    expect([curator.status, admin.status]).toEqual([201, 201]);
    expect(admin.body.id).not.toBe(curator.body.id);
  });
});

/** A browser-like client over plain HTTP: keeps the session cookie, follows no redirects. */
function browser() {
  let cookie = '';
  const call = async (method: string, path: string, body?: URLSearchParams | FormData) => {
    const res = await fetch(h.api.url + path, { method, redirect: 'manual', headers: { accept: 'text/html', cookie }, body });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return { status: res.status, location: res.headers.get('location'), html: await res.text() };
  };
  const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
  return {
    call,
    field,
    async login(email: string) {
      const form = await call('GET', '/login');
      const res = await call('POST', '/login', new URLSearchParams({ _csrf: field(form.html, '_csrf'), email, password: PASSWORD }));
      expect(res.status).toBe(303);
    },
  };
}

describe('the pages', () => {
  it('creates and issues once when «Создать и выдать» is sent twice at once, and both answers lead to it with its message', async () => {
    const c = browser();
    await c.login('curator@kontrol.test');
    const form = await c.call('GET', '/recommendations/new');
    const key = c.field(form.html, '_idem');
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    const text = 'Двойной щелчок по кнопке выдачи';
    const body = () =>
      new URLSearchParams([
        ['_csrf', c.field(form.html, '_csrf')],
        ['_idem', key],
        ['kind', 'letter'],
        ['number', '941'],
        ['date', '2020-09-25'],
        ['text', text],
        ['assignees', 'org-a'],
        ['assignees', 'org-c'],
        ['due', '2099-06-30'],
      ]);
    const [a, b] = await Promise.all([c.call('POST', '/recommendations/new', body()), c.call('POST', '/recommendations/new', body())]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(b.location).toBe(a.location);
    const created = await recommendationsWith(text);
    expect(created).toHaveLength(1);
    expect(a.location).toBe(`/recommendations/${created[0]}`);
    expect(await h.api.db.models.assignments.countDocuments({ recommendationId: created[0] })).toBe(2);
    // The page they lead to tells what was done, whichever answer the browser kept.
    expect((await c.call('GET', a.location!)).html).toContain('Рекомендация выдана');

    // The form shown again carries a new key: sending it creates a new recommendation.
    const again = await c.call('GET', '/recommendations/new');
    expect(c.field(again.html, '_idem')).not.toBe(key);
  });

  it('keeps one submission when the evidence form with its files is sent twice', async () => {
    const created = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: { ...NEW_REC, text: 'Отчёт отправлен дважды', assignees: ['org-a'] } });
    const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
    const id = issued.body.assignments[0].id as string;
    await eventually(async () => ((await h.request('GET', `/api/assignments/${id}`, { token: tokens.executor })).body.history?.length ? true : undefined));
    const c = browser();
    await c.login('executor@org-a.test');
    const page = await c.call('GET', `/assignments/${id}`);
    const form = () => {
      const data = new FormData();
      data.set('_csrf', c.field(page.html, '_csrf'));
      data.set('_idem', c.field(page.html, '_idem'));
      data.set('comment', 'Отчёт о мониторинге');
      data.set('files', new Blob(['отчёт'], { type: 'text/plain' }), 'otchet.txt');
      return data;
    };
    const [a, b] = await Promise.all([c.call('POST', `/assignments/${id}/submit`, form()), c.call('POST', `/assignments/${id}/submit`, form())]);
    expect([a.status, b.status]).toEqual([303, 303]);
    const detail = await eventually(async () => {
      const res = await h.request('GET', `/api/assignments/${id}`, { token: tokens.executor });
      return res.body.status === 'submitted' ? res.body : undefined;
    });
    expect(detail.submissions).toBe(1);
    expect(await h.api.db.models.evidence.countDocuments({ assignmentId: id })).toBe(1);
  });

  it('puts a key in every form that changes something, on every page of every role', async () => {
    const pages: Record<string, string[]> = {
      'curator@kontrol.test': ['/dashboard', '/review', '/extensions', '/recommendations', '/recommendations/new', '/imports/new'],
      'admin@kontrol.test': ['/admin/organizations', '/admin/users', '/admin/groups', '/admin/policy', '/admin/calendar', '/admin/outbox'],
      'executor@org-a.test': ['/my'],
    };
    const rec = (await h.api.db.models.recommendations.findOne({}, { _id: 1 }).lean())!._id;
    const assignment = (await h.api.db.models.assignments.findOne({ organization: 'org-a' }, { _id: 1 }).lean())!._id;
    pages['curator@kontrol.test'].push(`/recommendations/${rec}`, `/assignments/${assignment}`);
    pages['executor@org-a.test'].push(`/assignments/${assignment}`);
    pages['admin@kontrol.test'].push('/admin/organizations/org-a', '/admin/groups/new-group?new');
    let forms = 0;
    for (const [email, paths] of Object.entries(pages)) {
      const c = browser();
      await c.login(email);
      for (const path of paths) {
        const { status, html } = await c.call('GET', path);
        expect({ path, status }).toEqual({ path, status: 200 });
        for (const [form] of html.matchAll(/<form[^>]*method="post"[\s\S]*?<\/form>/g)) {
          if (/action="\/(logout|login)"/.test(form)) continue;
          forms += 1;
          expect({ path, form: form.slice(0, 120), key: /name="_idem" value="[0-9a-f-]{36}"/.test(form) }).toEqual({ path, form: form.slice(0, 120), key: true });
        }
      }
    }
    expect(forms).toBeGreaterThan(8);
  });
});
