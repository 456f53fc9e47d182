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
