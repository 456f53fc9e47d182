/**
 * Working-day arithmetic over the Russian production calendar.
 *
 * Dates are calendar dates written 'YYYY-MM-DD' with no time zone: the caller decides which day it
 * is where it matters and converts. Arithmetic uses UTC `Date` math only (no luxon, no Intl, no
 * clock), so the result is deterministic and workflow code may use it.
 *
 * A year present in the data follows that year's entry; any other year falls back to plain
 * weekends (Saturday and Sunday off), and `covers(year)` says which is the case.
 */
import { CALENDAR_DATA, type CalendarYear } from './calendar-data';

export interface WorkingCalendar {
  /** True on a working day: a Monday–Friday not listed as a day off, or a listed working weekend. */
  isWorkingDay(isoDate: string): boolean;
  /** The first working day strictly after the date. */
  nextWorkingDay(isoDate: string): string;
  /** The last working day strictly before the date. */
  previousWorkingDay(isoDate: string): string;
  /**
   * The n-th working day after the date (n > 0) or before it (n < 0), not counting the date itself:
   * addWorkingDays(d, 1) is nextWorkingDay(d), addWorkingDays(d, -1) is previousWorkingDay(d),
   * whether or not d is itself a working day.
   * n = 0 returns the date when it is a working day, otherwise rolls forward to the next working day.
   */
  addWorkingDays(isoDate: string, n: number): string;
  /**
   * Working days in the half-open interval (from, to]: the start is not counted, the end is.
   * Negative when `to` is before `from` (minus the working days in (to, from]); 0 when equal.
   * For a working day `from`, addWorkingDays(from, workingDaysBetween(from, to)) === to for any working `to`.
   */
  workingDaysBetween(from: string, to: string): number;
  /** True when the year has production-calendar data; otherwise plain weekends are assumed. */
  covers(year: number): boolean;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 for a valid 'YYYY-MM-DD'; throws RangeError on anything else. */
function toDayNumber(isoDate: string): number {
  const match = ISO_DATE.exec(isoDate);
  if (match) {
    const year = Number(match[1]);
    const month = Number(match[2]);
    const day = Number(match[3]);
    const ms = Date.UTC(year, month - 1, day);
    const back = new Date(ms);
    // Date.UTC maps years 0–99 to 1900–1999; compare all parts to reject those and 2023-02-30.
    if (back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day) {
      return ms / DAY_MS;
    }
  }
  throw new RangeError(`Not a calendar date YYYY-MM-DD: ${JSON.stringify(isoDate)}`);
}

function fromDayNumber(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. 1970-01-01 was a Thursday. */
function weekday(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7;
}

function yearOf(dayNumber: number): number {
  return new Date(dayNumber * DAY_MS).getUTCFullYear();
}

/** What is wrong with a year's entry, for callers that explain it to people in their own words. */
export type CalendarProblem = 'year-out-of-range' | 'not-a-date' | 'other-year' | 'must-be-weekday' | 'must-be-weekend';

/**
 * The RangeError createCalendar throws for an inconsistent entry, carrying the offending date and
 * list, so an administrator entering a year can be told which date is wrong and why.
 */
export class CalendarDataError extends RangeError {
  constructor(
    message: string,
    readonly problem: CalendarProblem,
    readonly year: number,
    readonly date?: string,
    readonly list?: 'daysOff' | 'workingWeekends',
  ) {
    super(message);
  }
}

/** Checks that a year's entry is usable; throws CalendarDataError naming the first problem. */
function checkYear(entry: CalendarYear): void {
  if (!Number.isInteger(entry.year) || entry.year < 1970 || entry.year > 9999) {
    throw new CalendarDataError(`Calendar year out of range: ${entry.year}`, 'year-out-of-range', entry.year);
  }
  const check = (date: string, list: 'daysOff' | 'workingWeekends', weekend: boolean) => {
    let dayNumber: number;
    try {
      dayNumber = toDayNumber(date);
    } catch (error) {
      throw new CalendarDataError(`${(error as Error).message} in ${list}`, 'not-a-date', entry.year, date, list);
    }
    if (yearOf(dayNumber) !== entry.year) {
      throw new CalendarDataError(`${date} in ${list} does not belong to ${entry.year}`, 'other-year', entry.year, date, list);
    }
    const isWeekend = weekday(dayNumber) === 0 || weekday(dayNumber) === 6;
    if (isWeekend !== weekend) {
      throw new CalendarDataError(
        `${date} in ${list} must be ${weekend ? 'a Saturday or Sunday' : 'a Monday–Friday'}`,
        weekend ? 'must-be-weekend' : 'must-be-weekday',
        entry.year,
        date,
        list,
      );
    }
  };
  for (const date of entry.daysOff) check(date, 'daysOff', false);
  for (const date of entry.workingWeekends) check(date, 'workingWeekends', true);
}

/**
 * Builds a calendar from the built-in data and, optionally, years an administrator added at run
 * time. An extra year replaces the built-in entry for the same year. Throws CalendarDataError (a
 * RangeError) when an entry is inconsistent (a date outside its year, a weekend listed as a day
 * off, and so on).
 */
export function createCalendar(
  data: readonly CalendarYear[] = CALENDAR_DATA,
  extra: readonly CalendarYear[] = [],
): WorkingCalendar {
  const years = new Map<number, CalendarYear>();
  for (const entry of [...data, ...extra]) {
    checkYear(entry);
    years.set(entry.year, entry);
  }
  const daysOff = new Set<number>();
  const workingWeekends = new Set<number>();
  for (const entry of years.values()) {
    for (const date of entry.daysOff) daysOff.add(toDayNumber(date));
    for (const date of entry.workingWeekends) workingWeekends.add(toDayNumber(date));
  }

  const isWorking = (dayNumber: number): boolean => {
    if (workingWeekends.has(dayNumber)) return true;
    if (daysOff.has(dayNumber)) return false;
    const day = weekday(dayNumber);
    return day !== 0 && day !== 6;
  };

  /** Steps one day at a time in `direction` until `count` working days have been passed. */
  const step = (start: number, count: number, direction: 1 | -1): number => {
    let dayNumber = start;
    let left = count;
    while (left > 0) {
      dayNumber += direction;
      if (isWorking(dayNumber)) left -= 1;
    }
    return dayNumber;
  };

  const countIn = (fromExclusive: number, toInclusive: number): number => {
    let count = 0;
    for (let dayNumber = fromExclusive + 1; dayNumber <= toInclusive; dayNumber += 1) {
      if (isWorking(dayNumber)) count += 1;
    }
    return count;
  };

  return {
    isWorkingDay: (isoDate) => isWorking(toDayNumber(isoDate)),
    nextWorkingDay: (isoDate) => fromDayNumber(step(toDayNumber(isoDate), 1, 1)),
    previousWorkingDay: (isoDate) => fromDayNumber(step(toDayNumber(isoDate), 1, -1)),
    addWorkingDays: (isoDate, n) => {
      if (!Number.isSafeInteger(n)) throw new RangeError(`Not a whole number of working days: ${n}`);
      const start = toDayNumber(isoDate);
      if (n === 0) return isWorking(start) ? isoDate : fromDayNumber(step(start, 1, 1));
      return fromDayNumber(n > 0 ? step(start, n, 1) : step(start, -n, -1));
    },
    workingDaysBetween: (from, to) => {
      const start = toDayNumber(from);
      const end = toDayNumber(to);
      return end >= start ? countIn(start, end) : -countIn(end, start);
    },
    covers: (year) => years.has(year),
  };
}
