/**
 * The production calendar through the real API: reading it, asking where a date deadline falls,
 * an administrator entering a year the built-in data lacks (2027) and amending a built-in one, and
 * the recommendations and extension requests that follow whatever calendar is in force.
 */
import { eventually, startHarness, type Harness, type HttpResult } from '../support/harness';

type Tokens = Awaited<ReturnType<Harness['seedUsers']>>;

const CYRILLIC = /[А-Яа-яЁё]/;
/** The end of the day in Asia/Tomsk (UTC+7). */
const endOf = (date: string) => `${date}T16:59:59.999Z`;

/**
 * Test data shaped like a decree for 2027 (none had been published when this was written): the
 * art. 112 holidays on weekdays, the Mondays after holidays falling on a weekend, and one transfer
 * (Saturday 20 February worked, Monday 22 February off).
 */
const YEAR_2027 = {
  source: 'Постановление Правительства РФ «О переносе выходных дней в 2027 году» (данные для проверки)',
  daysOff: [
    '2027-01-01', '2027-01-04', '2027-01-05', '2027-01-06', '2027-01-07', '2027-01-08',
    '2027-02-22', '2027-02-23',
    '2027-03-08',
    '2027-05-03', '2027-05-10',
    '2027-06-14',
    '2027-11-04', '2027-11-05',
    '2027-12-31',
  ],
  workingWeekends: ['2027-02-20'],
};

function expectError(res: HttpResult, status: number, code: string, message?: RegExp) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(res.body.error.message).toMatch(CYRILLIC);
  if (message) expect(res.body.error.message).toMatch(message);
  expect(res.raw.toString('utf8')).not.toMatch(/RangeError|stack|\.ts:\d+/);
}

function expectInvalidField(res: HttpResult, path: string) {
  expectError(res, 400, 'validation_failed', /Проверьте введённые данные/);
  expect(res.body.error.details).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(CYRILLIC) }]));
}

const recommendation = (due: string, assignees = ['org-a']) => ({
  source: { kind: 'letter', number: '766', date: '2026-11-20', title: 'Письмо о сроках' },
  text: 'Представить сведения об исполнении к сроку',
  assignees,
  deadline: { due },
});

describe('the production calendar API', () => {
  let h: Harness;
  let tokens: Tokens;

  beforeAll(async () => {
    h = await startHarness('calendar');
    tokens = await h.seedUsers();
  }, 60_000);
  afterAll(() => h?.stop());

  const put = (year: number | string, json: unknown, token = tokens.admin) => h.request('PUT', `/api/calendar/${year}`, { token, json });
  const draft = async (due: string) => {
    const res = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation(due) });
    expect(res.status).toBe(201);
    return res.body;
  };

  describe('reading', () => {
    it('lists the built-in years with their counts, the configured rule and the time zone, to any signed-in user', async () => {
      const res = await h.request('GET', '/api/calendar', { token: tokens.executor });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ rule: 'previous', timezone: 'Asia/Tomsk', total: 8 });
      expect(res.body.items.map((y: { year: number }) => y.year)).toEqual([2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026]);
      expect(res.body.items.every((y: { origin: string }) => y.origin === 'built-in')).toBe(true);
      expect(res.body.items.find((y: { year: number }) => y.year === 2024)).toEqual({
        year: 2024,
        source: expect.stringMatching(/№ 1314/),
        origin: 'built-in',
        daysOff: 17,
        workingWeekends: 3,
        workingDays: 248,
      });
    });

    it("shows a built-in year's days off and working weekends", async () => {
      const res = await h.request('GET', '/api/calendar/2024', { token: tokens.observer });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        year: 2024,
        origin: 'built-in',
        workingWeekends: ['2024-04-27', '2024-11-02', '2024-12-28'],
        workingDays: 248,
        updatedBy: null,
        updatedAt: null,
      });
      expect(res.body.daysOff).toHaveLength(17);
      expect(res.body.daysOff).toEqual(expect.arrayContaining(['2024-12-30', '2024-12-31']));
    });

    it('answers 404 in Russian for a year with no data, and 400 for something that is not a year', async () => {
      expectError(await h.request('GET', '/api/calendar/2027', { token: tokens.curator }), 404, 'not_found', /2027/);
      expectInvalidField(await h.request('GET', '/api/calendar/27', { token: tokens.curator }), 'params.year');
      expectInvalidField(await h.request('GET', '/api/calendar/1969', { token: tokens.curator }), 'params.year');
    });

    it('is described in the OpenAPI document', async () => {
      const { paths } = (await h.request('GET', '/api/openapi.json')).body;
      expect(Object.keys(paths['/api/calendar/{year}']).sort()).toEqual(['delete', 'get', 'put']);
      expect(paths['/api/calendar/deadline'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['date', 'rule']);
      expect(paths['/api/calendar'].get).toBeDefined();
    });

    it('refuses an anonymous caller with 401', async () => {
      expectError(await h.request('GET', '/api/calendar'), 401, 'unauthorized');
    });
  });

  describe('where a date deadline falls', () => {
    const ask = (query: string, token = tokens.executor) => h.request('GET', `/api/calendar/deadline?${query}`, { token });

    it('moves a day off to the previous working day by the configured rule, and to the next one on request', async () => {
      const previous = await ask('date=2024-12-31');
      expect(previous.status).toBe(200);
      expect(previous.body).toEqual({
        nominal: '2024-12-31',
        due: endOf('2024-12-28'),
        dueDate: '2024-12-28',
        moved: true,
        rule: 'previous',
        workingDay: false,
        calendarKnown: true,
      });
      const next = await ask('date=2024-12-31&rule=next');
      expect(next.body).toEqual({ nominal: '2024-12-31', due: endOf('2025-01-09'), dueDate: '2025-01-09', moved: true, rule: 'next', workingDay: false, calendarKnown: true });
    });

    it('leaves a working day, a working Saturday too, where it is', async () => {
      for (const date of ['2024-04-27', '2025-09-30']) {
        expect((await ask(`date=${date}&rule=next`)).body).toEqual({ nominal: date, due: endOf(date), dueDate: date, moved: false, rule: 'next', workingDay: true, calendarKnown: true });
      }
    });

    it('refuses an impossible date, a missing one, an unknown rule and an unknown parameter with 400', async () => {
      expectInvalidField(await ask('date=2024-02-30'), 'query.date');
      expect((await ask('date=2024-02-30')).body.error.details).toEqual([{ path: 'query.date', message: 'нет такой даты' }]);
      expectInvalidField(await ask(''), 'query.date');
      expectInvalidField(await ask('date=31.12.2024'), 'query.date');
      expectInvalidField(await ask('date=2024-12-31&rule=later'), 'query.rule');
      expectError(await ask('date=2024-12-31&zone=UTC'), 400, 'validation_failed');
    });
  });

  describe('an administrator entering a year', () => {
    it.each([
      ['a Saturday among the days off', { daysOff: ['2027-01-01', '2027-01-02'] }, 'body.daysOff.1', /2027-01-02 — суббота/],
      ['a Monday among the working weekends', { workingWeekends: ['2027-02-22'] }, 'body.workingWeekends.0', /2027-02-22 — понедельник/],
      ['a date of another year', { daysOff: ['2027-01-01', '2028-01-03'] }, 'body.daysOff.1', /2028-01-03 не относится к 2027 году/],
      ['a date that does not exist', { daysOff: ['2027-02-30'] }, 'body.daysOff.0', /2027-02-30: такой даты нет/],
    ])('is refused with 400 naming the date for %s', async (_what, lists, path, message) => {
      const res = await put(2027, { ...YEAR_2027, ...lists });
      expectError(res, 400, 'bad_request', message);
      expect(res.body.error.details).toEqual([{ path, message: expect.stringMatching(message) }]);
      expectError(await h.request('GET', '/api/calendar/2027', { token: tokens.admin }), 404, 'not_found');
    });

    it.each([
      ['a date written the Russian way', { ...YEAR_2027, daysOff: ['23.02.2027'] }, 'body.daysOff.0'],
      ['no source', { daysOff: YEAR_2027.daysOff, workingWeekends: [] }, 'body.source'],
      ['an unknown field', { ...YEAR_2027, shortDays: [] }, 'body'],
    ])('is refused with 400 for %s', async (_what, json, path) => {
      expectInvalidField(await put(2027, json), path);
    });

    it('is refused with 400 for a year outside 1970–9999', async () => {
      expectInvalidField(await put(1969, { ...YEAR_2027, daysOff: [], workingWeekends: [] }), 'params.year');
    });

    it('is for the administrator only: others get 403, an anonymous caller 401', async () => {
      for (const role of ['curator', 'observer', 'executor', 'otherExecutor'] as const) {
        expectError(await put(2027, YEAR_2027, tokens[role]), 403, 'forbidden');
        expectError(await h.request('DELETE', '/api/calendar/2027', { token: tokens[role] }), 403, 'forbidden');
      }
      expectError(await h.request('PUT', '/api/calendar/2027', { json: YEAR_2027 }), 401, 'unauthorized');
      expectError(await h.request('DELETE', '/api/calendar/2027'), 401, 'unauthorized');
      expectError(await h.request('GET', '/api/calendar/2027', { token: tokens.admin }), 404, 'not_found');
    });

    it('makes a deadline on a day the new year takes off move, until the year is removed again', async () => {
      // Without data for 2027 only weekends are known: Tuesday 23 February is a working day.
      // And says so, wherever the deadline shows.
      const before = await draft('2027-02-23');
      expect(before.deadline).toEqual({ due: endOf('2027-02-23'), input: '2027-02-23', nominal: '2027-02-23', moved: false, calendarKnown: false });
      expect((await h.request('GET', '/api/calendar/deadline?date=2027-01-05', { token: tokens.executor })).body).toMatchObject({ workingDay: true, calendarKnown: false });

      // Unsorted, with a repeat: stored sorted and once.
      const saved = await put(2027, { ...YEAR_2027, daysOff: [...YEAR_2027.daysOff].reverse().concat('2027-01-01') });
      expect(saved.status).toBe(200);
      expect(saved.body).toEqual({
        year: 2027,
        source: YEAR_2027.source,
        origin: 'added',
        daysOff: YEAR_2027.daysOff,
        workingWeekends: ['2027-02-20'],
        workingDays: 247,
        updatedBy: 'admin@kontrol.test',
        updatedAt: expect.any(String),
      });
      const listed = await h.request('GET', '/api/calendar', { token: tokens.curator });
      expect(listed.body.items.at(-1)).toEqual({ year: 2027, source: YEAR_2027.source, origin: 'added', daysOff: 15, workingWeekends: 1, workingDays: 247 });
      expect((await h.request('GET', '/api/calendar/2027', { token: tokens.executor })).body).toEqual(saved.body);

      // 22 and 23 February are off now; the working Saturday before them is the deadline.
      const after = await draft('2027-02-23');
      expect(after.deadline).toEqual({ due: endOf('2027-02-20'), input: '2027-02-23', nominal: '2027-02-23', moved: true, calendarKnown: true });
      const read = await h.request('GET', `/api/recommendations/${after.id}`, { token: tokens.observer });
      expect(read.body.deadline).toEqual(after.deadline);
      // What was created before keeps its deadline, now worked out with a known year.
      expect((await h.request('GET', `/api/recommendations/${before.id}`, { token: tokens.curator })).body.deadline).toMatchObject({ moved: false, calendarKnown: true });
      expect((await h.request('GET', '/api/calendar/deadline?date=2027-01-05', { token: tokens.executor })).body).toMatchObject({ workingDay: false, calendarKnown: true });
      const next = await h.request('GET', '/api/calendar/deadline?date=2027-02-23&rule=next', { token: tokens.curator });
      expect(next.body).toMatchObject({ dueDate: '2027-02-24', moved: true, workingDay: false });

      // Entering the year again replaces it.
      const amended = await put(2027, { ...YEAR_2027, daysOff: YEAR_2027.daysOff.filter((d) => d !== '2027-12-31') });
      expect(amended.body).toMatchObject({ origin: 'added', workingDays: 248 });
      expect(amended.body.daysOff).not.toContain('2027-12-31');

      const audit = await h.api.db.repos.audit.forEntity('calendar', '2027');
      expect(audit.map((e) => ({ action: e.action, by: e.actor.email }))).toEqual([
        { action: 'created', by: 'admin@kontrol.test' },
        { action: 'updated', by: 'admin@kontrol.test' },
      ]);
      expect(audit[0].details).toMatchObject({ source: YEAR_2027.source, daysOff: YEAR_2027.daysOff, replacesBuiltIn: false });

      const removed = await h.request('DELETE', '/api/calendar/2027', { token: tokens.admin });
      expect(removed.status).toBe(204);
      expectError(await h.request('GET', '/api/calendar/2027', { token: tokens.admin }), 404, 'not_found');
      expectError(await h.request('DELETE', '/api/calendar/2027', { token: tokens.admin }), 404, 'not_found', /2027/);
      expect((await draft('2027-02-23')).deadline).toMatchObject({ due: endOf('2027-02-23'), moved: false, calendarKnown: false });
      expect((await h.api.db.repos.audit.forEntity('calendar', '2027')).map((e) => e.action)).toEqual(['created', 'updated', 'deleted']);
    });

    it('may amend a built-in year; removing the amendment brings the built-in one back', async () => {
      const builtIn = (await h.request('GET', '/api/calendar/2025', { token: tokens.admin })).body;
      expect(builtIn).toMatchObject({ origin: 'built-in', workingDays: 247 });
      expect((await h.request('GET', '/api/calendar/deadline?date=2025-12-31', { token: tokens.admin })).body).toMatchObject({ moved: true, dueDate: '2025-12-30' });

      // Say the decree were amended to make 31 December 2025 a working day.
      const amended = await put(2025, {
        source: `${builtIn.source}; в редакции изменений (данные для проверки)`,
        daysOff: builtIn.daysOff.filter((d: string) => d !== '2025-12-31'),
        workingWeekends: builtIn.workingWeekends,
      });
      expect(amended.status).toBe(200);
      expect(amended.body).toMatchObject({ year: 2025, origin: 'added', workingDays: 248 });
      const listed = await h.request('GET', '/api/calendar', { token: tokens.curator });
      expect(listed.body.total).toBe(8);
      expect(listed.body.items.find((y: { year: number }) => y.year === 2025)).toMatchObject({ origin: 'added', daysOff: 14, workingDays: 248 });
      expect((await h.request('GET', '/api/calendar/deadline?date=2025-12-31', { token: tokens.admin })).body).toMatchObject({ moved: false, workingDay: true });

      expect((await h.request('DELETE', '/api/calendar/2025', { token: tokens.admin })).status).toBe(204);
      expect((await h.request('GET', '/api/calendar/2025', { token: tokens.admin })).body).toEqual(builtIn);
      expect((await h.request('GET', '/api/calendar/deadline?date=2025-12-31', { token: tokens.admin })).body).toMatchObject({ moved: true, dueDate: '2025-12-30' });
      const audit = await h.api.db.repos.audit.forEntity('calendar', '2025');
      expect(audit.map((e) => e.action)).toEqual(['created', 'deleted']);
      expect(audit[0].details).toMatchObject({ replacesBuiltIn: true });
      expect(audit[1].details).toMatchObject({ builtInApplies: true });
    });

    it('cannot remove a built-in year: only what was entered', async () => {
      expectError(await h.request('DELETE', '/api/calendar/2024', { token: tokens.admin }), 404, 'not_found', /2024/);
      expect((await h.request('GET', '/api/calendar/2024', { token: tokens.admin })).body.origin).toBe('built-in');
    });
  });

  describe('an extension request', () => {
    it('moves a new deadline that falls on a day off, by the same rule', async () => {
      expect((await put(2027, YEAR_2027)).status).toBe(200);
      const rec = await draft('2027-02-01');
      const issued = await h.request('POST', `/api/recommendations/${rec.id}/issue`, { token: tokens.curator });
      expect(issued.status).toBe(200);
      const id = issued.body.assignments[0].id;
      await eventually(async () => {
        const res = await h.request('GET', `/api/assignments/${id}`, { token: tokens.executor });
        return res.body.history?.some((e: { type: string }) => e.type === 'issued') ? true : undefined;
      }, 20_000, `the issued assignment ${id}`);

      const res = await h.request('POST', `/api/assignments/${id}/extension-requests`, {
        token: tokens.executor,
        json: { until: '2027-02-23', reason: 'Сведения будут готовы после заседания' },
      });
      expect(res.status).toBe(200);
      expect(res.body.extension).toMatchObject({ until: endOf('2027-02-20'), reason: 'Сведения будут готовы после заседания' });
      expect((await h.request('DELETE', '/api/calendar/2027', { token: tokens.admin })).status).toBe(204);
    });
  });
});

describe('the production calendar API configured with DEADLINE_NON_WORKING_DAY=next', () => {
  let h: Harness;
  let tokens: Tokens;

  beforeAll(async () => {
    h = await startHarness('calendar-next', { worker: false, env: { DEADLINE_NON_WORKING_DAY: 'next' } });
    tokens = await h.seedUsers();
  }, 60_000);
  afterAll(() => h?.stop());

  it('says so, and moves date deadlines to the next working day', async () => {
    expect((await h.request('GET', '/api/calendar', { token: tokens.observer })).body).toMatchObject({ rule: 'next' });
    expect((await h.request('GET', '/api/calendar/deadline?date=2024-12-31', { token: tokens.observer })).body).toMatchObject({
      dueDate: '2025-01-09',
      rule: 'next',
      moved: true,
    });
    const created = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation('2024-12-31') });
    expect(created.status).toBe(201);
    expect(created.body.deadline).toEqual({ due: endOf('2025-01-09'), input: '2024-12-31', nominal: '2024-12-31', moved: true, calendarKnown: true });
  });

  it('never moves a date-time with an offset', async () => {
    const created = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation('2024-12-31T12:00:00+07:00') });
    expect(created.body.deadline).toEqual({
      due: '2024-12-31T05:00:00.000Z',
      input: '2024-12-31T12:00:00+07:00',
      nominal: '2024-12-31T12:00:00+07:00',
      moved: false,
      calendarKnown: true,
    });
  });
});
