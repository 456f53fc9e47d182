/**
 * The production calendar that moves date deadlines off non-working days: everyone signed in reads
 * it and asks where a date's deadline falls; an administrator enters a year the built-in data does
 * not have yet (or amends one, as decrees sometimes are), and removes what they entered.
 */
import { Router } from 'express';
import type { ActorRef } from '../../domain/assignment';
import { z } from 'zod';
import { CalendarDataError, createCalendar, type WorkingCalendar } from '../../domain/calendar';
import { CALENDAR_DATA } from '../../domain/calendar-data';
import { isoDateIn, NON_WORKING_DAY_RULES, resolveDeadline, type NonWorkingDayRule } from '../../domain/deadline';
import { ROLES } from '../../domain/roles';
import { addedYear, knownCalendarYear, knownCalendarYears, loadCalendar, type KnownCalendarYear } from '../../store/calendar';
import type { Repositories } from '../../store/repositories';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import { AppError, badRequest, notFound } from '../errors';
import type { ApiDocs } from '../openapi';
import { deadlineDate, validate, text } from '../validate';

// The form only: whether the date exists is the calendar's own check, which names the day and the list.
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'дата в виде ГГГГ-ММ-ДД');
const ORIGINS = ['built-in', 'added'] as const;

// The range createCalendar accepts; the number itself is read in the handler.
const YearParams = z.object({ year: z.string().regex(/^(19[7-9]\d|[2-9]\d{3})$/, 'год: четыре цифры, от 1970 до 9999') });
const DeadlineQuery = z.strictObject({
  date: deadlineDate,
  rule: z.enum(NON_WORKING_DAY_RULES).optional(),
});
export const CalendarYearBody = z.strictObject({
  source: text({ min: 5, max: 2000, message: 'укажите постановление, по которому составлен календарь' }),
  daysOff: z.array(isoDate).max(261),
  workingWeekends: z.array(isoDate).max(105).default([]),
});

const CalendarYearSummaryOut = z
  .object({
    year: z.number(),
    source: z.string(),
    origin: z.enum(ORIGINS),
    daysOff: z.number().meta({ description: 'Сколько будних дней нерабочие' }),
    workingWeekends: z.number().meta({ description: 'Сколько суббот и воскресений рабочие' }),
    workingDays: z.number().meta({ description: 'Рабочих дней в году' }),
  })
  .meta({ id: 'CalendarYearSummary' });
const CalendarOut = z.object({
  items: z.array(CalendarYearSummaryOut),
  total: z.number(),
  rule: z.enum(NON_WORKING_DAY_RULES).meta({ description: 'Куда переносится срок, выпавший на нерабочий день' }),
  timezone: z.string(),
});
const CalendarYearOut = z
  .object({
    year: z.number(),
    source: z.string(),
    origin: z.enum(ORIGINS),
    daysOff: z.array(z.string()),
    workingWeekends: z.array(z.string()),
    workingDays: z.number(),
    updatedBy: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'CalendarYear' });
const DeadlineOut = z.object({
  nominal: z.string().meta({ description: 'Срок как написан' }),
  due: z.string().meta({ description: 'Момент истечения срока (ISO 8601)' }),
  dueDate: z.string().meta({ description: 'День истечения срока в часовом поясе учреждения' }),
  moved: z.boolean(),
  rule: z.enum(NON_WORKING_DAY_RULES),
  workingDay: z.boolean().meta({ description: 'Рабочий ли день указанная дата' }),
  calendarKnown: z.boolean().meta({ description: 'false: производственного календаря на этот год нет, нерабочими считаются только выходные' }),
});

const WEEKDAYS = ['воскресенье', 'понедельник', 'вторник', 'среда', 'четверг', 'пятница', 'суббота'];
const LISTS = { daysOff: 'нерабочие дни (daysOff)', workingWeekends: 'рабочие выходные (workingWeekends)' } as const;

function workingDaysIn(calendar: WorkingCalendar, year: number): number {
  return calendar.workingDaysBetween(`${year - 1}-12-31`, `${year}-12-31`);
}

function toSummaryOut({ entry, origin }: KnownCalendarYear, calendar: WorkingCalendar) {
  return {
    year: entry.year,
    source: entry.source,
    origin,
    daysOff: entry.daysOff.length,
    workingWeekends: entry.workingWeekends.length,
    workingDays: workingDaysIn(calendar, entry.year),
  };
}

function toYearOut(known: KnownCalendarYear, calendar: WorkingCalendar) {
  return {
    year: known.entry.year,
    source: known.entry.source,
    origin: known.origin,
    daysOff: [...known.entry.daysOff],
    workingWeekends: [...known.entry.workingWeekends],
    workingDays: workingDaysIn(calendar, known.entry.year),
    updatedBy: known.updatedBy ?? null,
    updatedAt: known.updatedAt?.toISOString() ?? null,
  };
}

/** createCalendar's refusal, said in Russian and pointed at the offending item of the body. */
function refusal(error: CalendarDataError, body: z.infer<typeof CalendarYearBody>): AppError {
  const { date, list, year } = error;
  if (!date || !list) return badRequest(`Календарь на ${year} год задать нельзя`);
  // Only the weekday problems name the day, and their dates are valid ones.
  const day = () => WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()];
  const reasons: Record<CalendarDataError['problem'], string> = {
    'year-out-of-range': `год ${year} вне допустимого диапазона`,
    'not-a-date': `${date}: такой даты нет`,
    'other-year': `${date} не относится к ${year} году`,
    'must-be-weekday': `${date} — ${day()}: в нерабочие дни вносят только дни с понедельника по пятницу (суббота и воскресенье выходные и так)`,
    'must-be-weekend': `${date} — ${day()}: в рабочие выходные вносят только субботы и воскресенья`,
  };
  const reason = reasons[error.problem];
  return badRequest(`Неверная дата в календаре на ${year} год: ${reason}`, [
    { path: `body.${list}.${body[list].indexOf(date)}`, message: `${LISTS[list]}: ${reason}` },
  ]);
}

const distinctSorted = (dates: string[]) => [...new Set(dates)].sort();

/**
 * Enters or amends a year of the production calendar: checked whole (a 400 naming the offending
 * date when it does not hold together), stored, audited. Used by the API and the admin page.
 */
export async function saveCalendarYear(repos: Repositories, year: number, body: z.infer<typeof CalendarYearBody>, actor: ActorRef) {
  const entry = { source: body.source, daysOff: distinctSorted(body.daysOff), workingWeekends: distinctSorted(body.workingWeekends) };
  try {
    createCalendar([], [{ year, ...entry }]);
  } catch (error) {
    if (error instanceof CalendarDataError) throw refusal(error, body);
    throw error;
  }
  const before = await repos.calendar.get(year);
  const stored = await repos.calendar.put(year, entry, actor);
  await repos.audit.record({
    actor,
    action: before ? 'updated' : 'created',
    entity: { kind: 'calendar', id: String(year) },
    details: { ...entry, replacesBuiltIn: CALENDAR_DATA.some((e) => e.year === year) },
  });
  return stored;
}

/** Removes a year an administrator entered (404 when there is none); the built-in one applies again. */
export async function removeCalendarYear(repos: Repositories, year: number, actor: ActorRef): Promise<void> {
  const stored = await repos.calendar.get(year);
  if (!stored || !(await repos.calendar.remove(year))) throw notFound(`Добавленного календаря на ${year} год нет`);
  await repos.audit.record({
    actor,
    action: 'deleted',
    entity: { kind: 'calendar', id: String(year) },
    details: { source: stored.source, builtInApplies: CALENDAR_DATA.some((e) => e.year === year) },
  });
}

export function createCalendarRouter({
  repos,
  timezone,
  rule,
  docs,
}: {
  repos: Repositories;
  timezone: string;
  /** The configured rule (DEADLINE_NON_WORKING_DAY). */
  rule: NonWorkingDayRule;
  docs: ApiDocs;
}) {
  const router = Router();

  docs.route('get', '/api/calendar', {
    summary: 'Производственный календарь: известные годы и правило переноса сроков',
    tag: 'Календарь',
    roles: ROLES,
    response: { description: 'Годы календаря', schema: CalendarOut },
  });
  router.get('/', async (_req, res) => {
    const years = await knownCalendarYears(repos);
    const calendar = createCalendar([], years.map((y) => y.entry));
    res.json({ items: years.map((y) => toSummaryOut(y, calendar)), total: years.length, rule, timezone });
  });

  // Before /:year, which would otherwise take "deadline" for a year and refuse it.
  docs.route('get', '/api/calendar/deadline', {
    summary: 'Куда приходится срок, указанный датой, с учётом нерабочих дней',
    tag: 'Календарь',
    roles: ROLES,
    query: DeadlineQuery,
    response: { description: 'Срок', schema: DeadlineOut },
  });
  router.get('/deadline', validate({ query: DeadlineQuery }), async (req, res) => {
    const { date } = req.query;
    const applied = req.query.rule ?? rule;
    const calendar = await loadCalendar(repos);
    const deadline = resolveDeadline(date, { timezone, calendar, rule: applied });
    if (!deadline) throw badRequest(`Нет такой даты: ${date}`, [{ path: 'query.date', message: 'нет такой даты' }]);
    res.json({
      nominal: deadline.nominal,
      due: deadline.due.toISOString(),
      dueDate: isoDateIn(deadline.due, timezone),
      moved: deadline.moved,
      rule: applied,
      workingDay: calendar.isWorkingDay(date),
      calendarKnown: deadline.calendarKnown,
    });
  });

  docs.route('get', '/api/calendar/{year}', {
    summary: 'Нерабочие дни и рабочие выходные года',
    tag: 'Календарь',
    roles: ROLES,
    params: YearParams,
    response: { description: 'Год календаря', schema: CalendarYearOut },
    errors: [404],
  });
  router.get('/:year', validate({ params: YearParams }), async (req, res) => {
    const year = Number(req.params.year);
    const known = await knownCalendarYear(repos, year);
    if (!known) throw notFound(`Производственного календаря на ${year} год нет`);
    res.json(toYearOut(known, await loadCalendar(repos)));
  });

  docs.route('put', '/api/calendar/{year}', {
    summary: 'Задать производственный календарь на год (заменяет встроенный, если он есть)',
    tag: 'Календарь',
    roles: ['admin'],
    params: YearParams,
    body: CalendarYearBody,
    response: { description: 'Сохранён', schema: CalendarYearOut },
  });
  router.put('/:year', requireRole('admin'), validate({ params: YearParams, body: CalendarYearBody }), async (req, res) => {
    const stored = await saveCalendarYear(repos, Number(req.params.year), req.body, actorRef(actorOf(req)));
    res.json(toYearOut(addedYear(stored), await loadCalendar(repos)));
  });

  docs.route('delete', '/api/calendar/{year}', {
    summary: 'Удалить добавленный год (снова действует встроенный календарь, если он есть)',
    tag: 'Календарь',
    roles: ['admin'],
    params: YearParams,
    response: { status: 204, description: 'Удалён' },
    errors: [404],
  });
  router.delete('/:year', requireRole('admin'), validate({ params: YearParams }), async (req, res) => {
    await removeCalendarYear(repos, Number(req.params.year), actorRef(actorOf(req)));
    res.status(204).end();
  });

  return router;
}
