/**
 * The protocol import end to end: the seed letters pasted as they are, read into drafts, confirmed,
 * and issued to every member of the group the letter addresses; groups kept by an administrator.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createCalendar } from '../../domain/calendar';
import { currentCycle, defaultLeadTime, isMonthEnd } from '../../domain/cycles';
import { resolveDeadline } from '../../domain/deadline';
import { GROUPS, MUNICIPALITIES, MUNICIPAL_AUTHORITIES_GROUP } from '../../seed/organizations';
import { eventually, startHarness, type Harness } from '../support/harness';

// Copies of shared/seeds: the two letters the product grew from, as curators paste them.
const SEEDS = path.resolve(__dirname, '../fixtures/letters');
const seed = (name: string) => readFileSync(path.join(SEEDS, name), 'utf8');
const LETTER_766 = '000_f5c9a93b07d8db0d.txt';
const LETTER_941 = '001_6309a3736b8f6afe.txt';

let h: Harness;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  h = await startHarness('import');
  tokens = await h.seedUsers();
  for (const { code, name } of MUNICIPALITIES) {
    await h.api.db.repos.organizations.create({ _id: code, name, kind: 'municipality', groups: [], contacts: { coordinator: [`coordinator@${code}.test`], head: [] } });
  }
});
afterAll(() => h?.stop());

const municipal = GROUPS.find((g) => g.code === MUNICIPAL_AUTHORITIES_GROUP)!;
const codes = MUNICIPALITIES.map((m) => m.code);

describe('organisation groups', () => {
  it('are kept by an administrator: name, phrases and exactly the members given', async () => {
    const put = await h.request('PUT', `/api/groups/${municipal.code}`, {
      token: tokens.admin,
      json: { name: municipal.name, phrases: municipal.phrases, members: codes },
    });
    expect(put.status).toBe(200);
    // The harness's org-a…org-c carried the group code before; the members given replace them.
    expect(put.body.members.map((m: { code: string }) => m.code).sort()).toEqual([...codes].sort());
    expect(put.body.phrases).toEqual(municipal.phrases);

    // Changing an organisation's contacts leaves its groups alone.
    const patched = await h.request('PATCH', '/api/organizations/tomsk', { token: tokens.admin, json: { contacts: { coordinator: ['new@tomsk.test'], head: [] } } });
    expect(patched.body.groups).toEqual([municipal.code]);

    const list = await h.request('GET', '/api/groups', { token: tokens.observer });
    expect(list.status).toBe(200);
    expect(list.body.items.find((g: { code: string }) => g.code === municipal.code).members).toHaveLength(20);
  });

  it('answers strangers and bad input clearly', async () => {
    expect((await h.request('GET', '/api/groups', { token: tokens.executor })).status).toBe(403);
    expect((await h.request('PUT', '/api/groups/x-group', { token: tokens.curator, json: { name: 'Группа' } })).status).toBe(403);
    const unknown = await h.request('PUT', '/api/groups/x-group', { token: tokens.admin, json: { name: 'Группа', members: ['no-such-org'] } });
    expect(unknown.status).toBe(409);
    expect(unknown.body.error.message).toBe('Неизвестные организации: no-such-org');
    expect((await h.request('GET', '/api/groups/no-such-group', { token: tokens.curator })).status).toBe(404);
    const bad = await h.request('PUT', '/api/groups/Bad%20Code', { token: tokens.admin, json: { name: 'Группа' } });
    expect(bad.status).toBe(400);
  });

  it('address a recommendation to all their members as they are now', async () => {
    const created = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { source: { kind: 'letter', number: '1', date: '2026-01-10' }, text: 'Всем муниципалитетам', groups: [municipal.code], assignees: ['rcro'], deadline: { due: '2099-12-01' } },
    });
    expect(created.status).toBe(201);
    expect(created.body.assignees).toHaveLength(21);
    const none = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { source: { kind: 'letter', number: '1', date: '2026-01-10' }, text: 'Никому', deadline: { due: '2099-12-01' } },
    });
    expect(none.status).toBe(400);
    expect(none.body.error.details).toEqual([{ path: 'body.assignees', message: 'нужен хотя бы один адресат: организации или группа' }]);
    const unknownGroup = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { source: { kind: 'letter', number: '1', date: '2026-01-10' }, text: 'Неизвестной группе', groups: ['no-such-group'], deadline: { due: '2099-12-01' } },
    });
    expect(unknownGroup.status).toBe(409);
    expect(unknownGroup.body.error.message).toBe('Неизвестные группы: no-such-group');
  });
});

describe('importing the seed letter of 26.08.2022 № 766', () => {
  let importId: string;

  it('reads three drafts with the deadlines the letter states, addressed to the 20 municipalities', async () => {
    const res = await h.request('POST', '/api/imports/protocol', { token: tokens.curator, json: { text: seed(LETTER_766) } });
    expect(res.status).toBe(201);
    importId = res.body.id;
    expect(res.body.status).toBe('draft');
    expect(res.body.reference).toBe('2022-08-26');
    expect(res.body.source).toMatchObject({ kind: 'protocol', number: '5', date: '2022-05-31', issuer: 'Коллегия Департамента общего образования Томской области' });
    expect(res.body.source.title).toContain('доведён письмом от 26.08.2022 № 766');
    expect(res.body.documents.map((d: { kind: string; number: string; date: string }) => [d.kind, d.number, d.date])).toEqual([
      ['letter', '766', '2022-08-26'],
      ['protocol', '5', '2022-05-31'],
    ]);
    const items = res.body.items;
    expect(items).toHaveLength(3);
    expect(items.map((i: { deadline: { kind: string; nominal: string; dueDate: string } }) => [i.deadline.kind, i.deadline.nominal, i.deadline.dueDate])).toEqual([
      ['date', '2022-09-30', '2022-09-30'],
      ['recurring', '2023-09-30', '2023-09-29'],
      ['date', '2023-11-30', '2023-11-30'],
    ]);
    expect(items[1].deadline.recurrence).toEqual({ frequency: 'yearly' });
    expect(items.map((i: { addressees: { groups: string[]; organizations: number; from: string } }) => [i.addressees.groups, i.addressees.organizations, i.addressees.from])).toEqual([
      [[municipal.code], 20, 'item'],
      [[municipal.code], 20, 'header'],
      [[municipal.code], 20, 'header'],
    ]);
    expect(items.every((i: { problems: string[] }) => i.problems.length === 0)).toBe(true);
    // The addressee the first item opens with is not part of what it asks.
    expect(items[0].proposal.text).toMatch(/^Провести анализ вовлеченности/);
    expect(items[1].proposal.deadline).toEqual({ due: '2023-09-30', recurrence: { frequency: 'yearly' } });
    // Nothing is issued before confirmation.
    expect((await h.request('GET', '/api/recommendations?limit=500', { token: tokens.curator })).body.items.some((r: { id: string }) => r.id.startsWith(importId))).toBe(false);
  });

  it('is for staff only', async () => {
    for (const token of [tokens.executor, tokens.observer]) {
      expect((await h.request('POST', '/api/imports/protocol', { token, json: { text: seed(LETTER_766) } })).status).toBe(403);
      expect((await h.request('GET', `/api/imports/${importId}`, { token })).status).toBe(403);
      expect((await h.request('POST', `/api/imports/${importId}/confirm`, { token, json: { items: [{ n: 1 }] } })).status).toBe(403);
    }
  });

  it('creates and issues the confirmed drafts in one step, once however often confirmed', async () => {
    const confirm = () => h.request('POST', `/api/imports/${importId}/confirm`, { token: tokens.curator, json: { items: [{ n: 1 }, { n: 2 }, { n: 3 }] } });
    // Two curators confirming at once, then a late repeat: one set of recommendations.
    const [a, b] = await Promise.all([confirm(), confirm()]);
    const c = await confirm();
    for (const res of [a, b, c]) {
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('confirmed');
      expect(res.body.recommendations.map((r: { id: string; status: string; assignments: number }) => [r.id, r.status, r.assignments])).toEqual([
        [`${importId}-1`, 'issued', 20],
        [`${importId}-2`, 'issued', 20],
        [`${importId}-3`, 'issued', 20],
      ]);
    }
    const all = await h.request('GET', '/api/recommendations?limit=500', { token: tokens.curator });
    expect(all.body.items.filter((r: { id: string }) => r.id.startsWith(importId))).toHaveLength(3);

    const first = await h.request('GET', `/api/recommendations/${importId}-1`, { token: tokens.curator });
    expect(first.body.source).toMatchObject({ kind: 'protocol', number: '5', date: '2022-05-31' });
    expect(first.body.deadline).toMatchObject({ nominal: '2022-09-30', moved: false });

    // The deadlines already past make overdue assignments, as they should.
    for (const n of [1, 3]) {
      const rows = await eventually(async () => {
        const res = await h.request('GET', `/api/assignments?recommendation=${importId}-${n}&limit=100`, { token: tokens.curator });
        return res.body.items.length === 20 && res.body.items.every((a: { overdue: boolean }) => a.overdue) ? res.body.items : undefined;
      }, 30_000, `item ${n} overdue everywhere`);
      expect(rows.map((a: { organization: string }) => a.organization).sort()).toEqual([...codes].sort());
    }

    // The yearly item: one assignment per municipality for the cycle under way today.
    const calendar = createCalendar();
    const context = { calendar, timezone: 'Asia/Tomsk', rule: 'previous' as const };
    const expected = currentCycle(
      { nominal: '2023-09-30', due: resolveDeadline('2023-09-30', context)!.due, recurrence: { frequency: 'yearly', monthEnd: isMonthEnd('2023-09-30'), leadTime: defaultLeadTime('yearly') } },
      new Date(),
      context,
    );
    const yearly = await h.request('GET', `/api/assignments?recommendation=${importId}-2&limit=100`, { token: tokens.curator });
    expect(yearly.body.items).toHaveLength(20);
    expect(new Set(yearly.body.items.map((a: { cycle: number; period: string; due: string }) => `${a.cycle} ${a.period} ${a.due}`))).toEqual(
      new Set([`${expected.cycle} ${expected.period} ${expected.due.toISOString()}`]),
    );
    const card = await h.request('GET', `/api/recommendations/${importId}-2`, { token: tokens.curator });
    expect(card.body.recurrence).toMatchObject({ frequency: 'yearly', leadTime: 'P1Y', monthEnd: true });
    expect(card.body.cycles.current.period).toBe(expected.period);
  });
});

describe('reading a letter already imported', () => {
  it('warns that its document is registered, with what was issued from it, and that its deadlines are past', async () => {
    const first = (await h.request('GET', '/api/imports?limit=100', { token: tokens.curator })).body.items.find((i: { status: string }) => i.status === 'confirmed');
    const again = await h.request('POST', '/api/imports/protocol', { token: tokens.curator, json: { text: seed(LETTER_766) } });
    expect(again.status).toBe(201);
    const [registered, ...past] = again.body.warnings as Array<{ code: string; message: string; due?: string; recommendations?: Array<{ id: string; status: string }> }>;
    expect(registered).toMatchObject({ code: 'source_registered', message: 'Документ «протокол от 31.05.2022 № 5» уже зарегистрирован: по нему выданы 3 рекомендации' });
    expect(registered.recommendations!.map((r) => [r.id, r.status]).sort()).toEqual([1, 2, 3].map((n) => [`${first.id}-${n}`, 'issued']));
    // The two dated items; the yearly one starts at the cycle under way, so it is not overdue at once.
    expect(past.map((w) => w.code)).toEqual(['deadline_passed', 'deadline_passed']);
    expect(past[0]).toMatchObject({ due: '2022-09-30', message: 'Срок 30.09.2022 уже прошёл: адресаты сразу получат письмо «Срок истёк»' });
    // Once confirmed, an import warns of nothing more.
    expect(first.warnings).toEqual([]);
  });
});

describe('importing the seed letter of 25.09.2020 № 941', () => {
  it('reads the decision told in prose, and asks for the addressee it cannot tell', async () => {
    const res = await h.request('POST', '/api/imports/protocol', { token: tokens.curator, json: { text: seed(LETTER_941) } });
    expect(res.status).toBe(201);
    expect(res.body.source).toMatchObject({ kind: 'letter', number: '941', date: '2020-09-25', title: 'Об итогах проведения вебинара' });
    expect(res.body.items).toHaveLength(1);
    const [item] = res.body.items;
    expect([item.deadline.kind, item.deadline.nominal, item.deadline.source]).toEqual(['date', '2020-10-05', '05 октября 2020г.']);
    expect(item.addressees.from).toBe('none');
    expect(item.problems).toEqual(['Адресаты не определены — выберите группу или организации']);

    const refused = await h.request('POST', `/api/imports/${res.body.id}/confirm`, { token: tokens.curator, json: { items: [{ n: 1 }, { n: 2 }] } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([
      { path: 'body.items.0.assignees', message: 'пункт 1: укажите организации или группу' },
      { path: 'body.items.1.n', message: 'в черновике нет пункта 2' },
    ]);
    // Refused means nothing happened: the import is still a draft to correct.
    expect((await h.request('GET', `/api/imports/${res.body.id}`, { token: tokens.curator })).body.status).toBe('draft');

    const corrected = await h.request('POST', `/api/imports/${res.body.id}/confirm`, {
      token: tokens.curator,
      json: { items: [{ n: 1, assignees: ['org-a'], text: 'Внести изменения в технические задания РВЦИ (до 05 октября 2020 г.)' }] },
    });
    expect(corrected.status).toBe(200);
    const rec = await h.request('GET', `/api/recommendations/${res.body.id}-1`, { token: tokens.curator });
    expect(rec.body).toMatchObject({ status: 'issued', assignees: ['org-a'], text: 'Внести изменения в технические задания РВЦИ (до 05 октября 2020 г.)' });
  });

  it('refuses a text with nothing to import', async () => {
    const res = await h.request('POST', '/api/imports/protocol', { token: tokens.curator, json: { text: 'Уважаемые коллеги! Благодарим за участие в вебинаре.' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^В тексте не найдено пунктов с поручениями/);
    const empty = await h.request('POST', '/api/imports/protocol', { token: tokens.curator, json: { text: '' } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details[0]).toEqual({ path: 'body.text', message: 'вставьте текст протокола или письма' });
  });
});
