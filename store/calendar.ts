/**
 * The production calendar in force: the built-in data plus the years administrators entered, an
 * entered year replacing the built-in entry for the same year. Read afresh on each use, so a year
 * entered on one API process applies on every other at once.
 */
import { createCalendar, type WorkingCalendar } from '../domain/calendar';
import { CALENDAR_DATA, type CalendarYear } from '../domain/calendar-data';
import type { AddedCalendarYear } from './models';
import type { Repositories } from './repositories';

export type CalendarOrigin = 'built-in' | 'added';

export interface KnownCalendarYear {
  entry: CalendarYear;
  origin: CalendarOrigin;
  /** Who entered it and when, for an added year. */
  updatedBy?: string;
  updatedAt?: Date;
}

function toCalendarYear(stored: AddedCalendarYear): CalendarYear {
  return { year: stored._id, source: stored.source, daysOff: stored.daysOff, workingWeekends: stored.workingWeekends };
}

export function addedYear(stored: AddedCalendarYear): KnownCalendarYear {
  return { entry: toCalendarYear(stored), origin: 'added', updatedBy: stored.updatedBy?.email, updatedAt: stored.updatedAt };
}

export async function loadCalendar(repos: Repositories): Promise<WorkingCalendar> {
  const added = await repos.calendar.list();
  return createCalendar(CALENDAR_DATA, added.map(toCalendarYear));
}

/** Every year with data, in order, each as it applies: the added entry where there is one. */
export async function knownCalendarYears(repos: Repositories): Promise<KnownCalendarYear[]> {
  const byYear = new Map<number, KnownCalendarYear>(CALENDAR_DATA.map((entry) => [entry.year, { entry, origin: 'built-in' }]));
  for (const stored of await repos.calendar.list()) byYear.set(stored._id, addedYear(stored));
  return [...byYear.values()].sort((a, b) => a.entry.year - b.entry.year);
}

/** One year as it applies, or undefined when there is no data for it. */
export async function knownCalendarYear(repos: Repositories, year: number): Promise<KnownCalendarYear | undefined> {
  const stored = await repos.calendar.get(year);
  if (stored) return addedYear(stored);
  const entry = CALENDAR_DATA.find((e) => e.year === year);
  return entry ? { entry, origin: 'built-in' } : undefined;
}

/** From this month on, next year's calendar is expected: the government approves it in the autumn. */
const NEXT_YEAR_FROM_MONTH = 10;

/**
 * The years deadlines are or soon will be worked out in that have no calendar data, in order: this
 * year, next year from October, and the year of every deadline (a date) of a recommendation not
 * withdrawn, from this year on. What administrators are asked to enter.
 */
export async function missingCalendarYears(repos: Repositories, today: string): Promise<number[]> {
  const [calendar, recommendations] = await Promise.all([loadCalendar(repos), repos.recommendations.all()]);
  const year = Number(today.slice(0, 4));
  const needed = new Set([year]);
  if (Number(today.slice(5, 7)) >= NEXT_YEAR_FROM_MONTH) needed.add(year + 1);
  for (const rec of recommendations) {
    const nominal = rec.deadline.nominal ?? rec.deadline.input;
    if (rec.status !== 'withdrawn' && /^\d{4}-\d{2}-\d{2}$/.test(nominal) && Number(nominal.slice(0, 4)) >= year) needed.add(Number(nominal.slice(0, 4)));
  }
  return [...needed].filter((y) => !calendar.covers(y)).sort((a, b) => a - b);
}
