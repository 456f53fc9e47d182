/**
 * Deadlines as people write them in the API: a calendar date means the end of that day in the
 * authority's time zone; a full ISO date-time with an offset is taken literally.
 */
import { DateTime } from 'luxon';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// A date-time must say its offset (or Z): a bare local time would silently mean the server's zone.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

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

/** DD.MM.YYYY in the given zone, as Russian documents write dates. */
export function formatDateRu(date: Date | string, timezone: string): string {
  const value = typeof date === 'string' ? new Date(date) : date;
  return DateTime.fromJSDate(value, { zone: timezone }).toFormat('dd.LL.yyyy');
}
