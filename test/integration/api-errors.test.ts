/**
 * Every route's error cases through the real API: the status, and the one body shape clients can
 * rely on, `{"error":{"code","message","details"?}}`, with a Russian message and nothing of the
 * server's insides (no stack, no file paths). Upload limits and login rate limiting run against
 * harnesses of their own, configured with small limits.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rmdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import { startApi } from '../../api/server';
import { loadConfig } from '../../config';
import { eventually, PASSWORD, startHarness, type Harness, type HttpResult } from '../support/harness';

type Tokens = Awaited<ReturnType<Harness['seedUsers']>>;

const CYRILLIC = /[А-Яа-яЁё]/;

/** The error contract: exact status, JSON, only the documented keys, Russian text, no internals. */
function expectError(res: HttpResult, status: number, code: string, message?: RegExp) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { error: { code } } });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(['error']);
  const { error } = res.body;
  expect(Object.keys(error).filter((k) => !['code', 'message', 'details'].includes(k))).toEqual([]);
  expect(error.message).toEqual(expect.stringMatching(CYRILLIC));
  if (message) expect(error.message).toMatch(message);
  const raw = res.raw.toString('utf8');
  expect(raw).not.toMatch(/stack|\bat [^"]*\.[jt]s:\d+|node_modules|Error:/);
}

/** A validation failure names the offending field and says what is wrong with it, in Russian. */
function expectInvalidField(res: HttpResult, path: string, message?: RegExp) {
  expectError(res, 400, 'validation_failed', /Проверьте введённые данные/);
  const details = res.body.error.details as Array<{ path: string; message: string }>;
  const issue = details.find((d) => d.path === path);
  expect({ path, issue, details }).toMatchObject({ path, issue: { path, message: expect.stringMatching(CYRILLIC) } });
  if (message) expect(issue!.message).toMatch(message);
}

const recommendation = (overrides: Record<string, unknown> = {}) => ({
  source: { kind: 'letter', number: '12-01/345', date: '2022-09-01', title: 'Письмо о мониторинге' },
  text: 'Представить сведения о результатах мониторинга',
  assignees: ['org-a'],
  deadline: { due: '2099-09-30' },
  ...overrides,
});

async function waitForHistory(h: Harness, token: string, id: string, type: string) {
  return eventually(async () => {
    const res = await h.request('GET', `/api/assignments/${id}`, { token });
    return res.body.history?.some((e: { type: string }) => e.type === type) ? res.body : undefined;
  }, 20_000, `${type} in the history of ${id}`);
}

/** An org-a assignment whose workflow runs and which is still as issued. */
async function issuedAssignment(h: Harness, tokens: Tokens): Promise<{ recommendationId: string; assignmentId: string }> {
  const created = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation() });
  expect(created.status).toBe(201);
  const issue = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  expect(issue.status).toBe(200);
  const assignmentId = `${created.body.id}.org-a.1`;
  await waitForHistory(h, tokens.curator, assignmentId, 'issued');
  return { recommendationId: created.body.id, assignmentId };
}

describe('the API', () => {
  let h: Harness;
  let tokens: Tokens;
  /** Issued to org-a and left alone, except by calls that must be refused. */
  let untouched: { recommendationId: string; assignmentId: string };
  /** A withdrawn draft. */
  let withdrawn: string;
  const UNKNOWN_REC = 'AAAAAAAAAAAA';
  const UNKNOWN_ASSIGNMENT = `${UNKNOWN_REC}.org-a.1`;

  beforeAll(async () => {
    h = await startHarness('errors');
    tokens = await h.seedUsers();
    untouched = await issuedAssignment(h, tokens);
    const draft = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation() });
    withdrawn = draft.body.id;
    expect((await h.request('POST', `/api/recommendations/${withdrawn}/withdraw`, { token: tokens.curator, json: { reason: 'Ошибка в тексте' } })).status).toBe(200);
  }, 60_000);
  afterAll(() => h?.stop());

  describe('refuses malformed JSON with 400 on every route that takes a JSON body', () => {
    const routes: Array<[string, string, () => string, keyof Tokens | undefined]> = [
      ['POST', '/api/auth/login', () => '/api/auth/login', undefined],
      ['POST', '/api/organizations', () => '/api/organizations', 'admin'],
      ['PATCH', '/api/organizations/:code', () => '/api/organizations/org-a', 'admin'],
      ['POST', '/api/users', () => '/api/users', 'admin'],
      ['POST', '/api/recommendations', () => '/api/recommendations', 'curator'],
      ['POST', '/api/deadlines/parse', () => '/api/deadlines/parse', 'curator'],
      ['POST', '/api/recommendations/:id/withdraw', () => `/api/recommendations/${untouched.recommendationId}/withdraw`, 'curator'],
      ['POST', '/api/assignments/:id/review', () => `/api/assignments/${untouched.assignmentId}/review`, 'curator'],
      ['POST', '/api/assignments/:id/extension-requests', () => `/api/assignments/${untouched.assignmentId}/extension-requests`, 'executor'],
      ['POST', '/api/assignments/:id/extension-requests/decision', () => `/api/assignments/${untouched.assignmentId}/extension-requests/decision`, 'curator'],
    ];
    it.each(routes)('%s %s', async (method, _name, url, role) => {
      const res = await h.request(method, url(), { token: role && tokens[role], json: '{"reason": "Ошибка", ' });
      expectError(res, 400, 'bad_request', /не является корректным JSON/);
    });
  });

  describe('refuses fields it does not know with 400 instead of ignoring them', () => {
    it('in a body', async () => {
      const org = await h.request('POST', '/api/organizations', {
        token: tokens.admin,
        json: { code: 'org-extra', name: 'Лишнее поле', kind: 'other', isAdmin: true },
      });
      expectInvalidField(org, 'body');
      expect((await h.request('GET', '/api/organizations/org-extra', { token: tokens.admin })).status).toBe(404);

      const patch = await h.request('PATCH', '/api/organizations/org-a', { token: tokens.admin, json: { code: 'org-z' } });
      expectInvalidField(patch, 'body');
    });

    it('in a query string', async () => {
      expectInvalidField(await h.request('GET', '/api/assignments?organisation=org-b', { token: tokens.curator }), 'query');
      expectInvalidField(await h.request('GET', '/api/recommendations?state=draft', { token: tokens.curator }), 'query');
    });
  });

  describe('auth', () => {
    it('refuses a wrong password and an unknown e-mail alike with 401', async () => {
      const wrong = await h.request('POST', '/api/auth/login', { json: { email: 'executor@org-a.test', password: 'not-the-password' } });
      expectError(wrong, 401, 'unauthorized', /Неверный адрес электронной почты или пароль/);
      const unknown = await h.request('POST', '/api/auth/login', { json: { email: 'nobody@org-a.test', password: PASSWORD } });
      expectError(unknown, 401, 'unauthorized');
      expect(unknown.body.error.message).toBe(wrong.body.error.message);
    });

    it('refuses a login without a valid e-mail or a password with 400', async () => {
      expectInvalidField(await h.request('POST', '/api/auth/login', { json: { email: 'executor', password: PASSWORD } }), 'body.email');
      expectInvalidField(await h.request('POST', '/api/auth/login', { json: { email: 'executor@org-a.test' } }), 'body.password');
    });

    it('answers 401 without a token, with a garbage token, an expired one, a forged one and one of an unknown user', async () => {
      const secret = h.config.JWT_SECRET!;
      const user = await h.api.db.repos.users.findByEmail('executor@org-a.test');
      const cases: Array<[string, Record<string, string>]> = [
        ['none', {}],
        ['basic', { authorization: `Basic ${Buffer.from(`executor@org-a.test:${PASSWORD}`).toString('base64')}` }],
        ['garbage', { authorization: 'Bearer not.a.token' }],
        ['expired', { authorization: `Bearer ${jwt.sign({ exp: Math.floor(Date.now() / 1000) - 60 }, secret, { subject: user!._id })}` }],
        ['forged', { authorization: `Bearer ${jwt.sign({}, 'another-secret-another-secret-123', { subject: user!._id })}` }],
        ['unsigned', { authorization: `Bearer ${jwt.sign({}, '', { subject: user!._id, algorithm: 'none' })}` }],
        ['unknown user', { authorization: `Bearer ${jwt.sign({}, secret, { subject: randomUUID() })}` }],
      ];
      for (const [, headers] of cases) {
        for (const url of ['/api/auth/me', '/api/assignments', `/api/assignments/${untouched.assignmentId}`]) {
          expectError(await h.request('GET', url, { headers }), 401, 'unauthorized', /вход|войдите/i);
        }
      }
      // The valid token of the same user does get in: what was refused was the token, not the user.
      const valid = { authorization: `Bearer ${jwt.sign({}, secret, { subject: user!._id })}` };
      expect((await h.request('GET', '/api/auth/me', { headers: valid })).status).toBe(200);
    });

    it('shuts out a deactivated user at once, token or not', async () => {
      await h.createUser('leaving@org-a.test', 'executor', 'org-a');
      const token = await h.login('leaving@org-a.test');
      expect((await h.request('GET', '/api/auth/me', { token })).status).toBe(200);
      await h.api.db.models.users.updateOne({ email: 'leaving@org-a.test' }, { $set: { active: false } });
      expectError(await h.request('GET', '/api/auth/me', { token }), 401, 'unauthorized');
      expectError(
        await h.request('POST', '/api/auth/login', { json: { email: 'leaving@org-a.test', password: PASSWORD } }),
        401,
        'unauthorized',
      );
    });
  });

  describe('organizations', () => {
    it('refuses a new organisation with missing fields, naming each', async () => {
      const res = await h.request('POST', '/api/organizations', { token: tokens.admin, json: {} });
      expectInvalidField(res, 'body.code');
      expectInvalidField(res, 'body.name');
      expectInvalidField(res, 'body.kind');
    });

    it.each([
      ['an upper-case code with a space', { code: 'Org A' }, 'body.code', /латинские строчные буквы/],
      ['a one-letter code', { code: 'a' }, 'body.code', /латинские строчные буквы/],
      ['an unknown kind', { kind: 'planet' }, 'body.kind', undefined],
      ['a bad contact e-mail', { contacts: { coordinator: ['not-an-email'], head: [] } }, 'body.contacts.coordinator.0', /неверный адрес/],
    ])('refuses %s with 400', async (_what, override, path, message) => {
      const json = { code: 'org-new', name: 'Новая организация', kind: 'other', ...override };
      const res = await h.request('POST', '/api/organizations', { token: tokens.admin, json });
      expectInvalidField(res, path, message);
    });

    it('refuses a duplicate code with 409', async () => {
      const res = await h.request('POST', '/api/organizations', { token: tokens.admin, json: { code: 'org-a', name: 'Двойник', kind: 'other' } });
      expectError(res, 409, 'conflict', /«org-a» уже есть/);
      const org = await h.request('GET', '/api/organizations/org-a', { token: tokens.admin });
      expect(org.body.name).toBe('Организация ORG-A');
    });

    it('answers 404 for an unknown code, to read or to change', async () => {
      expectError(await h.request('GET', '/api/organizations/org-zz', { token: tokens.curator }), 404, 'not_found', /Организация не найдена/);
      expectError(await h.request('PATCH', '/api/organizations/org-zz', { token: tokens.admin, json: { name: 'Нет такой' } }), 404, 'not_found');
    });

    it('refuses a change with an invalid value, and a list filter with an unknown kind, with 400', async () => {
      expectInvalidField(await h.request('PATCH', '/api/organizations/org-a', { token: tokens.admin, json: { name: 'Я' } }), 'body.name');
      expectInvalidField(await h.request('GET', '/api/organizations?kind=planet', { token: tokens.curator }), 'query.kind');
    });
  });

  describe('users', () => {
    const user = (overrides: Record<string, unknown> = {}) => ({
      email: 'new.user@kontrol.test',
      name: 'Новый пользователь',
      password: PASSWORD,
      role: 'executor',
      organization: 'org-a',
      ...overrides,
    });

    it.each([
      ['a bad e-mail', { email: 'new.user@' }, 'body.email', /неверный адрес электронной почты/],
      ['a password shorter than 8', { password: 'short' }, 'body.password', /не короче 8 знаков/],
      ['an executor without an organisation', { organization: undefined }, 'body.organization', /исполнитель должен принадлежать организации/],
      ['a bad organisation code', { organization: 'Org A' }, 'body.organization', undefined],
      ['an unknown role', { role: 'boss' }, 'body.role', undefined],
    ])('refuses %s with 400', async (_what, override, path, message) => {
      expectInvalidField(await h.request('POST', '/api/users', { token: tokens.admin, json: user(override) }), path, message);
    });

    it('refuses an organisation that does not exist with 409, a reference to fix rather than a malformed request', async () => {
      const res = await h.request('POST', '/api/users', { token: tokens.admin, json: user({ organization: 'org-zz' }) });
      expectError(res, 409, 'unknown_reference', /Организации с кодом «org-zz» нет/);
    });

    it('refuses a duplicate e-mail with 409, whatever its case', async () => {
      const res = await h.request('POST', '/api/users', { token: tokens.admin, json: user({ email: ' Executor@ORG-A.test ' }) });
      expectError(res, 409, 'conflict', /executor@org-a\.test уже есть/);
      const users = await h.request('GET', '/api/users?organization=org-a&role=executor', { token: tokens.admin });
      expect(users.body.items.filter((u: { email: string }) => u.email === 'executor@org-a.test')).toHaveLength(1);
    });

    it('refuses a list filter with an unknown role with 400', async () => {
      expectInvalidField(await h.request('GET', '/api/users?role=boss', { token: tokens.admin }), 'query.role');
    });
  });

  describe('deadline phrases', () => {
    it('reads a protocol’s phrase, a recurring one, and answers unknown rather than guess', async () => {
      const yearly = await h.request('POST', '/api/deadlines/parse', { token: tokens.curator, json: { text: 'срок: сентябрь 2023 г., далее – ежегодно', reference: '2022-05-31' } });
      expect(yearly.status).toBe(200);
      expect(yearly.body).toMatchObject({ kind: 'recurring', recurrence: { frequency: 'yearly' }, nominal: '2023-09-30', dueDate: '2023-09-29' });
      expect(yearly.body.occurrences).toHaveLength(3);
      const unknown = await h.request('POST', '/api/deadlines/parse', { token: tokens.curator, json: { text: 'в установленные сроки' } });
      expect(unknown.body).toEqual({ kind: 'unknown', source: '' });
    });

    it('refuses a missing text, an impossible reference date and unknown fields with 400', async () => {
      for (const json of [{}, { text: 'сентябрь', reference: '2023-02-30' }, { text: 'сентябрь', year: 2023 }, { text: 'x'.repeat(2001) }]) {
        const res = await h.request('POST', '/api/deadlines/parse', { token: tokens.curator, json });
        expectError(res, 400, 'validation_failed', /.+/);
      }
    });
  });

  describe('recommendations', () => {
    it('refuses unknown assignees with 409, listing them, and creates nothing', async () => {
      const before = await h.request('GET', '/api/recommendations?limit=500', { token: tokens.curator });
      const res = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation({ assignees: ['org-a', 'org-x', 'org-y'] }) });
      expectError(res, 409, 'unknown_reference', /Неизвестные организации: org-x, org-y/);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'body.assignees', codes: ['org-x', 'org-y'] })]);
      const after = await h.request('GET', '/api/recommendations?limit=500', { token: tokens.curator });
      expect(after.body.total).toBe(before.body.total);
    });

    it('refuses a placeholder deadline far in the future, naming the limit', async () => {
      const res = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation({ deadline: { due: '9999-12-31' } }) });
      // The schema (and the document) says the years a deadline takes.
      expectInvalidField(res, 'body.deadline.due', /год до 2100/);
    });

    it.each([
      ['an impossible date', '2023-02-30'],
      ['an impossible ISO date-time', '2023-02-30T12:00:00+07:00'],
    ])('refuses a deadline that is %s (%s) with 400', async (_what, due) => {
      const res = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation({ deadline: { due } }) });
      expectInvalidField(res, 'body.deadline.due', /ГГГГ-ММ-ДД/);
    });

    it.each([
      ['a Russian-style date', { deadline: { due: '30.09.2022' } }, 'body.deadline.due', /ГГГГ-ММ-ДД/],
      ['a date-time without an offset', { deadline: { due: '2099-09-30T10:00' } }, 'body.deadline.due', /ГГГГ-ММ-ДД/],
      ['no deadline', { deadline: undefined }, 'body.deadline', undefined],
      ['a bad assignee code', { assignees: ['Org A'] }, 'body.assignees.0', /неверный код организации/],
      ['no assignees', { assignees: [] }, 'body.assignees', /нужен хотя бы один адресат/],
      ['a too short text', { text: 'Да' }, 'body.text', /слишком короткий/],
      ['a bad source date', { source: { kind: 'letter', number: '1', date: '01.09.2022' } }, 'body.source.date', /ГГГГ-ММ-ДД/],
      ['an unknown source kind', { source: { kind: 'rumour', number: '1', date: '2022-09-01' } }, 'body.source.kind', undefined],
    ])('refuses %s with 400', async (_what, override, path, message) => {
      const res = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation(override) });
      expectInvalidField(res, path, message);
    });

    it('answers 404 for an unknown id, to read, issue or withdraw', async () => {
      expectError(await h.request('GET', `/api/recommendations/${UNKNOWN_REC}`, { token: tokens.curator }), 404, 'not_found', /Рекомендация не найдена/);
      expectError(await h.request('POST', `/api/recommendations/${UNKNOWN_REC}/issue`, { token: tokens.curator }), 404, 'not_found', /Рекомендация не найдена/);
      expectError(
        await h.request('POST', `/api/recommendations/${UNKNOWN_REC}/withdraw`, { token: tokens.curator, json: { reason: 'Нет такой' } }),
        404,
        'not_found',
        /Рекомендация не найдена/,
      );
    });

    it('refuses a withdrawal without a reason with 400', async () => {
      const res = await h.request('POST', `/api/recommendations/${untouched.recommendationId}/withdraw`, { token: tokens.curator, json: {} });
      expectInvalidField(res, 'body.reason');
      expect((await h.request('GET', `/api/recommendations/${untouched.recommendationId}`, { token: tokens.curator })).body.status).toBe('issued');
    });

    it('refuses to withdraw twice or to issue a withdrawn recommendation with 409', async () => {
      const again = await h.request('POST', `/api/recommendations/${withdrawn}/withdraw`, { token: tokens.curator, json: { reason: 'Ещё раз' } });
      expectError(again, 409, 'conflict', /уже отозвана/);
      expectError(await h.request('POST', `/api/recommendations/${withdrawn}/issue`, { token: tokens.curator }), 409, 'conflict', /отозвана: выдать её нельзя/);
    });

    it.each([['limit=0', 'query.limit'], ['limit=501', 'query.limit'], ['offset=-1', 'query.offset'], ['status=archived', 'query.status']])(
      'refuses a list with %s with 400',
      async (query, path) => {
        expectInvalidField(await h.request('GET', `/api/recommendations?${query}`, { token: tokens.curator }), path);
      },
    );

    it('keeps markup in a text as data: stored verbatim and served as JSON', async () => {
      const text = '<script>alert(1)</script> и <img src=x onerror="alert(2)">';
      const created = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation({ text }) });
      expect(created.status).toBe(201);
      for (const token of [tokens.curator, tokens.observer]) {
        const res = await h.request('GET', `/api/recommendations/${created.body.id}`, { token });
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.body.text).toBe(text);
      }
      const stored = await h.api.db.repos.recommendations.get(created.body.id);
      expect(stored!.text).toBe(text);
    });
  });

  describe('assignments', () => {
    it('explains an extension asked for a day off that would move back onto the current deadline', async () => {
      const created = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation({ deadline: { due: '2099-10-02' } }) });
      await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
      const id = `${created.body.id}.org-a.1`;
      await waitForHistory(h, tokens.curator, id, 'issued');
      // Friday 02.10.2099 is the deadline; Saturday 03.10 moves back to that Friday.
      const res = await h.request('POST', `/api/assignments/${id}/extension-requests`, { token: tokens.executor, json: { until: '2099-10-03', reason: 'Нужно больше времени' } });
      expectError(res, 400, 'bad_request', /^03\.10\.2099 — нерабочий день: срок переносится на 02\.10\.2099, а это не позже текущего срока/);
    });

    it.each([['limit=0', 'query.limit'], ['limit=501', 'query.limit'], ['status=lost', 'query.status'], ['overdue=yes', 'query.overdue'], ['organization=Org%20A', 'query.organization']])(
      'refuses a list with %s with 400',
      async (query, path) => {
        expectInvalidField(await h.request('GET', `/api/assignments?${query}`, { token: tokens.curator }), path);
      },
    );

    const unknownIds: Array<[string, string]> = [
      ['an unknown id', UNKNOWN_ASSIGNMENT],
      ['a malformed id', '../../etc'],
      ['a malformed id with a NUL', 'abc\u0000.org-a.1'],
    ];
    it.each(unknownIds)('answers 404 for %s on every assignment route', async (_what, id) => {
      const base = `/api/assignments/${encodeURIComponent(id)}`;
      const form = new FormData();
      form.append('comment', 'Отчёт');
      const calls: Array<[string, string, keyof Tokens, { json?: unknown; form?: FormData }]> = [
        ['GET', base, 'curator', {}],
        ['POST', `${base}/submissions`, 'executor', { form }],
        ['POST', `${base}/review`, 'curator', { json: { decision: 'accept' } }],
        ['POST', `${base}/extension-requests`, 'executor', { json: { until: '2099-12-31', reason: 'Нужно больше времени' } }],
        ['POST', `${base}/extension-requests/decision`, 'curator', { json: { approve: true } }],
        ['GET', `${base}/files/${randomUUID()}`, 'curator', {}],
      ];
      for (const [method, url, role, body] of calls) {
        expectError(await h.request(method, url, { token: tokens[role], ...body }), 404, 'not_found', /Поручение не найдено/);
      }
    });

    it('answers 404 for an unknown file of a known assignment, and 400 for a malformed file id', async () => {
      const url = `/api/assignments/${untouched.assignmentId}/files`;
      expectError(await h.request('GET', `${url}/${randomUUID()}`, { token: tokens.executor }), 404, 'not_found', /Файл не найден/);
      expectInvalidField(await h.request('GET', `${url}/not-a-uuid`, { token: tokens.executor }), 'params.fileId');
    });

    it('refuses a return without a comment and an unknown decision with 400', async () => {
      const url = `/api/assignments/${untouched.assignmentId}/review`;
      expectInvalidField(await h.request('POST', url, { token: tokens.curator, json: { decision: 'return' } }), 'body.comment', /нужен комментарий/);
      expectInvalidField(await h.request('POST', url, { token: tokens.curator, json: { decision: 'return', comment: '   ' } }), 'body.comment', /нужен комментарий/);
      expectInvalidField(await h.request('POST', url, { token: tokens.curator, json: { decision: 'maybe' } }), 'body.decision');
    });

    it('refuses a review with nothing submitted with 409', async () => {
      const res = await h.request('POST', `/api/assignments/${untouched.assignmentId}/review`, { token: tokens.curator, json: { decision: 'accept' } });
      expectError(res, 409, 'conflict', /Проверять нечего/);
    });

    it.each([
      ['a Russian-style date', { until: '30.09.2099', reason: 'Нужно больше времени' }, 'body.until'],
      ['no reason', { until: '2099-12-31' }, 'body.reason'],
      ['a too short reason', { until: '2099-12-31', reason: 'да' }, 'body.reason'],
    ])('refuses an extension request with %s with 400', async (_what, json, path) => {
      expectInvalidField(await h.request('POST', `/api/assignments/${untouched.assignmentId}/extension-requests`, { token: tokens.executor, json }), path);
    });

    it('refuses an extension request for an impossible date with 400', async () => {
      const res = await h.request('POST', `/api/assignments/${untouched.assignmentId}/extension-requests`, {
        token: tokens.executor,
        json: { until: '2099-02-30', reason: 'Нужно больше времени' },
      });
      expectInvalidField(res, 'body.until', /новый срок/);
    });

    it('refuses an extension until a date earlier than the current deadline with 409', async () => {
      const res = await h.request('POST', `/api/assignments/${untouched.assignmentId}/extension-requests`, {
        token: tokens.executor,
        json: { until: '2099-01-31', reason: 'Нужно больше времени' },
      });
      expectError(res, 409, 'conflict', /Новый срок должен быть позже текущего/);
    });

    it('refuses a rejection without a comment with 400, and a decision with no request waiting with 409', async () => {
      const url = `/api/assignments/${untouched.assignmentId}/extension-requests/decision`;
      expectInvalidField(await h.request('POST', url, { token: tokens.curator, json: { approve: false } }), 'body.comment', /при отказе нужен комментарий/);
      expectInvalidField(await h.request('POST', url, { token: tokens.curator, json: { approve: 'yes' } }), 'body.approve');
      expectError(await h.request('POST', url, { token: tokens.curator, json: { approve: true } }), 409, 'conflict', /Нет запроса на продление/);
    });

    it('refuses files sent under another field name with 400', async () => {
      const form = new FormData();
      form.append('attachment', new Blob([Buffer.from('отчёт')], { type: 'text/plain' }), 'report.txt');
      const res = await h.request('POST', `/api/assignments/${untouched.assignmentId}/submissions`, { token: tokens.executor, form });
      expectError(res, 400, 'bad_request', /Неверная форма отправки файлов/);
    });

    it('left the assignment every refused call aimed at exactly as issued', async () => {
      const detail = await h.request('GET', `/api/assignments/${untouched.assignmentId}`, { token: tokens.curator });
      expect(detail.body).toMatchObject({ status: 'issued', due: '2099-09-30T16:59:59.999Z', extension: null, submissions: 0, evidence: [] });
      expect(detail.body.history.map((e: { type: string }) => e.type)).toEqual(['issued']);
      expect(await h.api.db.repos.evidence.forAssignment(untouched.assignmentId, ['pending', 'recorded', 'refused'])).toEqual([]);
    });
  });

  describe('the rest of the surface', () => {
    it.each([
      ['GET', '/api/nope', 'curator'],
      ['GET', '/api/nope', undefined],
      ['GET', '/nope', undefined],
      ['DELETE', '/api/organizations/org-a/nope', 'admin'],
    ] as const)('answers %s %s (token: %s) with a JSON 404', async (method, url, role) => {
      expectError(await h.request(method, url, { token: role && tokens[role] }), 404, 'not_found', /Такого адреса нет/);
    });

    it.each([
      ['DELETE', '/api/organizations/org-a', 'admin'],
      ['PUT', '/api/assignments', 'curator'],
      ['PATCH', '/api/recommendations/AAAAAAAAAAAA/issue', 'curator'],
    ] as const)('answers %s %s, a path it has, with 405 and the methods it takes', async (method, url, role) => {
      const res = await h.request(method, url, { token: tokens[role] });
      expectError(res, 405, 'method_not_allowed', new RegExp(`Метод ${method} для этого адреса не поддерживается`));
      const allow = (res.headers.get('allow') ?? '').split(', ');
      expect(allow).toContain('OPTIONS');
      expect(allow).not.toContain(method);
      expect(allow.length).toBeGreaterThan(1);
    });

    it('answers TRACE, which fetch will not send, with 405 too', async () => {
      const { status, allow } = await new Promise<{ status?: number; allow?: string }>((resolve, reject) => {
        const req = httpRequest(`${h.api.url}/api/users`, { method: 'TRACE', headers: { authorization: `Bearer ${tokens.admin}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode, allow: res.headers.allow }));
        });
        req.on('error', reject);
        req.end();
      });
      expect({ status, allow }).toEqual({ status: 405, allow: 'GET, HEAD, OPTIONS, POST' });
    });

    it('checks the method against the document before any route: PUT /api/calendar/deadline is 405, not a bad year', async () => {
      const res = await h.request('PUT', '/api/calendar/deadline', { token: tokens.admin, json: {} });
      expectError(res, 405, 'method_not_allowed');
      expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    });

    it('answers OPTIONS with the methods the document declares for the path', async () => {
      const res = await h.request('OPTIONS', '/api/imports/protocol', { token: tokens.curator });
      expect(res.status).toBe(204);
      expect(res.headers.get('allow')).toBe('OPTIONS, POST');
    });

    it('stores a NUL in a name as U+FFFD instead of failing with 500', async () => {
      const res = await h.request('POST', '/api/organizations', { token: tokens.admin, json: { code: 'org-nul', name: 'Школа\u0000№1', kind: 'other' } });
      expect(res.status).toBe(201);
      expect((await h.request('GET', '/api/organizations/org-nul', { token: tokens.admin })).body.name).toBe('Школа\uFFFD№1');
    });

    it('refuses a multipart body it cannot read with 400, not 500', async () => {
      const res = await fetch(`${h.api.url}/api/assignments/${untouched.assignmentId}/submissions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.executor}`, 'content-type': 'multipart/form-data' },
        body: 'no boundary here',
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/Неверная форма отправки файлов/);
    });

    it('refuses a document dated 0000-00-00 in an import with 400, not 500', async () => {
      const res = await h.request('POST', '/api/imports/protocol', {
        token: tokens.curator,
        json: { text: 'Протокол заседания коллегии, пункт 1: представить отчёт до 01.03.2027', source: { kind: 'protocol', number: '5', date: '0000-00-00' } },
      });
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'body.source.date', message: 'нет такой даты' })]));
    });

    it('refuses a JSON body over 1 MB with 413', async () => {
      const res = await h.request('POST', '/api/recommendations', {
        token: tokens.curator,
        json: recommendation({ text: 'а'.repeat(1_100_000) }),
      });
      expectError(res, 413, 'payload_too_large', /Слишком большой запрос/);
    });
  });
});

describe('upload limits', () => {
  let h: Harness;
  let tokens: Tokens;
  let assignmentId: string;

  beforeAll(async () => {
    h = await startHarness('limits', { env: { UPLOAD_MAX_FILE_MB: '0.01', UPLOAD_MAX_FILES: '2' } });
    tokens = await h.seedUsers();
    ({ assignmentId } = await issuedAssignment(h, tokens));
  }, 60_000);
  afterAll(() => h?.stop());

  const form = (files: Array<[string, number]>) => {
    const data = new FormData();
    data.append('comment', 'Отчёт с приложениями');
    for (const [name, size] of files) data.append('files', new Blob([Buffer.alloc(size, 0x61)], { type: 'text/plain' }), name);
    return data;
  };

  async function expectUnchanged() {
    const detail = await h.request('GET', `/api/assignments/${assignmentId}`, { token: tokens.curator });
    expect(detail.body).toMatchObject({ status: 'issued', submissions: 0, evidence: [] });
    expect(detail.body.history.map((e: { type: string }) => e.type)).toEqual(['issued']);
    expect(await h.api.db.repos.evidence.forAssignment(assignmentId, ['pending', 'recorded', 'refused'])).toEqual([]);
    // Nothing half-uploaded is left behind either.
    expect(await readdir(`${h.config.filesDir}/incoming`)).toEqual([]);
  }

  it('refuses a file over the size limit with 413 and a Russian message, changing nothing', async () => {
    // 0.01 MB is 10 486 bytes.
    const res = await h.request('POST', `/api/assignments/${assignmentId}/submissions`, { token: tokens.executor, form: form([['big.txt', 20_000]]) });
    expectError(res, 413, 'payload_too_large', /Файл больше допустимого размера \(0[.,]01 МБ\)/);
    await expectUnchanged();
  });

  it('refuses more files than allowed with 413 and a Russian message, changing nothing', async () => {
    const res = await h.request('POST', `/api/assignments/${assignmentId}/submissions`, {
      token: tokens.executor,
      form: form([['1.txt', 10], ['2.txt', 10], ['3.txt', 10]]),
    });
    expectError(res, 413, 'payload_too_large', /Слишком много файлов: не больше 2 за один раз/);
    await expectUnchanged();
  });

  it('refuses a body declared larger than all its files may be, before reading any of it', async () => {
    // 10 MB declared, against two files of 0.01 MB and room for the comment; only a first chunk is ever sent.
    const answer = await new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
      const req = httpRequest(`${h.api.url}/api/assignments/${assignmentId}/submissions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.executor}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(10_000_000) },
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.write('--x\r\nContent-Disposition: form-data; name="comment"\r\n\r\nотчёт\r\n');
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large', message: expect.stringMatching(/^Файлы больше допустимого: не больше 2 файлов/) } });
    expect(answer.connection).toBe('close');
    await expectUnchanged();
  });

  it('accepts exactly the limit: two files of the largest allowed size', async () => {
    const max = h.config.uploadMaxFileBytes;
    const res = await h.request('POST', `/api/assignments/${assignmentId}/submissions`, {
      token: tokens.executor,
      form: form([['1.txt', max], ['2.txt', max]]),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'submitted', submissions: 1 });
    const detail = await h.request('GET', `/api/assignments/${assignmentId}`, { token: tokens.curator });
    expect(detail.body.evidence).toHaveLength(1);
    expect(detail.body.evidence[0].files.map((f: { size: number }) => f.size)).toEqual([max, max]);
  });

  it('answers a download whose stored file cannot be read with 500, and goes on serving', async () => {
    const { assignmentId } = await issuedAssignment(h, tokens);
    const submitted = await h.request('POST', `/api/assignments/${assignmentId}/submissions`, { token: tokens.executor, form: form([['unreadable.txt', 100]]) });
    expect(submitted.status).toBe(200);
    const detail = await h.request('GET', `/api/assignments/${assignmentId}`, { token: tokens.curator });
    const file = detail.body.evidence[0].files[0] as { id: string; sha256: string };
    // The stored file turned into something unreadable (a directory reads as EISDIR): the stream
    // fails after the checks passed. Unhandled, that error used to take the process down.
    const stored = path.join(h.config.filesDir, file.sha256.slice(0, 2), file.sha256);
    await rename(stored, `${stored}.moved`);
    await mkdir(stored);
    try {
      const res = await h.request('GET', `/api/assignments/${assignmentId}/files/${file.id}`, { token: tokens.curator });
      expect(res.status).toBe(500);
      expect(res.headers.get('content-disposition')).toBeNull();
      expect((await h.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await rmdir(stored);
      await rename(`${stored}.moved`, stored);
    }
    const again = await h.request('GET', `/api/assignments/${assignmentId}/files/${file.id}`, { token: tokens.curator });
    expect(again.status).toBe(200);
  });
});

describe('login rate limiting', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('ratelimit', { worker: false, env: { LOGIN_RATE_LIMIT: '3' } });
    // Not seedUsers: its five logins would use up the limit under test.
    await h.createUser('observer@kontrol.test', 'observer');
  }, 60_000);
  afterAll(() => h?.stop());

  it('answers 429 with a Russian message on the 4th attempt in the window, even with the right password', async () => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const res = await h.request('POST', '/api/auth/login', { json: { email: 'observer@kontrol.test', password: `wrong-${attempt}` } });
      expect({ attempt, status: res.status }).toEqual({ attempt, status: 401 });
    }
    const fourth = await h.request('POST', '/api/auth/login', { json: { email: 'observer@kontrol.test', password: PASSWORD } });
    expectError(fourth, 429, 'too_many_requests', /Слишком много попыток входа/);
    // Only logins are limited: the rest of the API still answers this address.
    expect((await h.request('GET', '/healthz')).status).toBe(200);
  });

  it('counts the API and the pages together, in every API process, in the database', async () => {
    await h.api.db.repos.loginAttempts.forget('127.0.0.1');
    await h.api.db.repos.loginAttempts.forget('::ffff:127.0.0.1');
    // A second API process on the same database, as a node behind a balancer would run.
    const second = await startApi(loadConfig({ ...h.env, PORT: '0' }), pino({ level: 'silent' }));
    try {
      const viaApi = await h.request('POST', '/api/auth/login', { json: { email: 'observer@kontrol.test', password: 'wrong-1' } });
      expect(viaApi.status).toBe(401);
      const viaSecond = await fetch(`${second.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'observer@kontrol.test', password: 'wrong-2' }),
      });
      expect(viaSecond.status).toBe(401);
      const pageLogin = async () => {
        const form = await fetch(`${h.api.url}/login`);
        const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0];
        const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
        return fetch(`${h.api.url}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: csrf, email: 'observer@kontrol.test', password: 'wrong-3' }).toString(),
        });
      };
      expect((await pageLogin()).status).toBe(401);
      // The fourth attempt, through the pages this time: refused with the page's Russian message.
      const fourth = await pageLogin();
      expect(fourth.status).toBe(429);
      expect(await fourth.text()).toContain('Слишком много попыток входа');
      // Stored once each, up to the limit: the refused fourth is answered, not stored.
      expect(await h.api.db.models.loginAttempts.countDocuments()).toBe(3);
    } finally {
      await second.close();
    }
  });
});
