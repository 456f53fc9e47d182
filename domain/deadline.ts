/**
 * Deadlines as people write them in the API: a calendar date means the end of that day in the
 * authority's time zone (moved off a non-working day by resolveDeadline); a full ISO date-time with
 * an offset is taken literally.
 */
import { DateTime } from 'luxon';
import type { WorkingCalendar } from './calendar';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// A date-time must say its offset (or Z): a bare local time would silently mean the server's zone.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** No deadline is set beyond this year: a later one is a placeholder ("31.12.9999"), not a date to plan for. */
export const LAST_DEADLINE_YEAR = 2100;

export function isDeadlineInput(input: string): boolean {
  return DATE_ONLY.test(input) || DATE_TIME.test(input);
}

/** Returns undefined when the input is not a real date (2023-02-30) or not in either form. */
export function parseDue(input: string, timezone: string): Date | undefined {
  if (DATE_ONLY.test(input)) {
    const day = DateTime.fromISO(input, { zone: timezone });
    return day.isValid ? day.endOf('day').toJSDate() : undefined;
  }
  if (DATE_TIME.test(input)) {
    const moment = DateTime.fromISO(input, { setZone: true });
    return moment.isValid ? moment.toJSDate() : undefined;
  }
  return undefined;
}

/**
 * What happens to a date deadline that falls on a non-working day. 'previous': the last working
 * day before it, as records-management practice has it for instructions (the work must be done
 * while the office is open); 'next': the next working day, as the Civil Code (art. 193) does for
 * obligations.
 */
export const NON_WORKING_DAY_RULES = ['previous', 'next'] as const;
export type NonWorkingDayRule = (typeof NON_WORKING_DAY_RULES)[number];

export interface ResolvedDeadline {
  /** The moment the deadline passes. */
  due: Date;
  /** The deadline as written: the date 'YYYY-MM-DD', or the ISO date-time input unchanged. */
  nominal: string;
  /** True when the written date was a non-working day and the deadline moved off it. */
  moved: boolean;
  /** False when the calendar lacks a year it was worked out in (see calendarKnown). */
  calendarKnown: boolean;
}

/**
 * Whether the production calendar has the years a date deadline was worked out in: the date as
 * written and the day it fell on. Without them only weekends are days off, and a holiday, or a
 * weekend made a working day, may have been missed. A moment (a date-time) is never moved, so its
 * calendar does not matter.
 */
export function calendarKnown(nominal: string, dueDay: string, calendar: Pick<WorkingCalendar, 'covers'>): boolean {
  if (!DATE_ONLY.test(nominal)) return true;
  return calendar.covers(Number(nominal.slice(0, 4))) && calendar.covers(Number(dueDay.slice(0, 4)));
}

/**
 * parseDue with the working-day rule: a date that is not a working day by the calendar moves to
 * the previous (default) or next working day, and the deadline is the end of that day. A date-time
 * with an offset names a moment, not a day, and is never moved. Undefined for invalid input.
 */
export function resolveDeadline(
  input: string,
  { timezone, calendar, rule = 'previous' }: { timezone: string; calendar: WorkingCalendar; rule?: NonWorkingDayRule },
): ResolvedDeadline | undefined {
  if (Number(input.slice(0, 4)) > LAST_DEADLINE_YEAR) return undefined;
  if (!DATE_ONLY.test(input)) {
    const due = parseDue(input, timezone);
    return due ? { due, nominal: input, moved: false, calendarKnown: true } : undefined;
  }
  if (!DateTime.fromISO(input, { zone: timezone }).isValid) return undefined;
  let day: string;
  try {
    day = calendar.isWorkingDay(input) ? input : rule === 'next' ? calendar.nextWorkingDay(input) : calendar.previousWorkingDay(input);
  } catch (error) {
    // The calendar's date arithmetic refuses years 0000–0099, which luxon accepts: not a deadline either.
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  return { due: parseDue(day, timezone)!, nominal: input, moved: day !== input, calendarKnown: calendarKnown(input, day, calendar) };
}

/** YYYY-MM-DD of the moment in the given zone: the day a deadline falls on there. */
export function isoDateIn(date: Date, timezone: string): string {
  return DateTime.fromJSDate(date, { zone: timezone }).toISODate()!;
}

/** A calendar date YYYY-MM-DD written DD.MM.YYYY: no zone is involved, the day is the day. */
export function isoDateRu(isoDate: string): string {
  return `${isoDate.slice(8, 10)}.${isoDate.slice(5, 7)}.${isoDate.slice(0, 4)}`;
}

/** DD.MM.YYYY in the given zone, as Russian documents write dates. */
export function formatDateRu(date: Date | string, timezone: string): string {
  const value = typeof date === 'string' ? new Date(date) : date;
  return DateTime.fromJSDate(value, { zone: timezone }).toFormat('dd.LL.yyyy');
}
