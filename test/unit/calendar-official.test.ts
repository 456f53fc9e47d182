/**
 * The calendar against the official production calendars (five-day, 40-hour week) of 2023–2025,
 * written out here from the published calendars rather than from calendar-data.ts, so a slip in the
 * data cannot agree with itself: working days per month, every weekday that is not worked, every
 * weekend day that is. Then the deadline rule over the same years.
 *
 * Sources: the decrees «О переносе выходных дней» (2023: 29.08.2022 № 1505; 2024: 10.08.2023 № 1314;
 * 2025: 04.10.2024 № 1335), Labour Code art. 112, and the production calendars published from them
 * (КонсультантПлюс, 1С:ИТС); yearly totals 247, 248 and 247 working days.
 */
import { createCalendar } from '../../domain/calendar';
import { resolveDeadline, type NonWorkingDayRule } from '../../domain/deadline';

const calendar = createCalendar();
const TZ = 'Asia/Tomsk';
const DAY_MS = 86_400_000;

interface OfficialYear {
  total: number;
  /** Working days, January to December. */
  months: number[];
  /** Every Monday–Friday that is not a working day: holidays, their art. 112 Mondays, transfers. */
  weekdaysOff: string[];
  /** Every Saturday or Sunday that is a working day. */
  weekendsWorked: string[];
}

const OFFICIAL: Record<number, OfficialYear> = {
  2023: {
    total: 247,
    months: [17, 18, 22, 20, 20, 21, 21, 23, 21, 22, 21, 21],
    // Sun 1 Jan → Fri 24 Feb and Sun 8 Jan → Mon 8 May by the decree; Sat 4 Nov → Mon 6 Nov by art. 112.
    weekdaysOff: [
      '2023-01-02', '2023-01-03', '2023-01-04', '2023-01-05', '2023-01-06',
      '2023-02-23', '2023-02-24',
      '2023-03-08',
      '2023-05-01', '2023-05-08', '2023-05-09',
      '2023-06-12',
      '2023-11-06',
    ],
    weekendsWorked: [],
  },
  2024: {
    total: 248,
    months: [17, 20, 20, 21, 20, 19, 23, 22, 21, 23, 21, 21],
    // Sat 6 Jan → Fri 10 May, Sun 7 Jan → Tue 31 Dec; the working Saturdays 27 Apr, 2 Nov, 28 Dec
    // give their rest to Mon 29 Apr, Tue 30 Apr and Mon 30 Dec.
    weekdaysOff: [
      '2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08',
      '2024-02-23',
      '2024-03-08',
      '2024-04-29', '2024-04-30',
      '2024-05-01', '2024-05-09', '2024-05-10',
      '2024-06-12',
      '2024-11-04',
      '2024-12-30', '2024-12-31',
    ],
    weekendsWorked: ['2024-04-27', '2024-11-02', '2024-12-28'],
  },
  2025: {
    total: 247,
    months: [17, 20, 21, 22, 18, 19, 23, 21, 22, 23, 19, 22],
    // Sat 4 Jan → Fri 2 May, Sun 5 Jan → Wed 31 Dec, Sun 23 Feb → Thu 8 May, Sat 8 Mar → Fri 13 Jun,
    // and the working Saturday 1 Nov gives its rest to Mon 3 Nov.
    weekdaysOff: [
      '2025-01-01', '2025-01-02', '2025-01-03', '2025-01-06', '2025-01-07', '2025-01-08',
      '2025-05-01', '2025-05-02', '2025-05-08', '2025-05-09',
      '2025-06-12', '2025-06-13',
      '2025-11-03', '2025-11-04',
      '2025-12-31',
    ],
    weekendsWorked: ['2025-11-01'],
  },
};

const YEARS = Object.keys(OFFICIAL).map(Number);

function daysOf(year: number): Date[] {
  const days: Date[] = [];
  for (let t = Date.UTC(year, 0, 1); new Date(t).getUTCFullYear() === year; t += DAY_MS) days.push(new Date(t));
  return days;
}
const iso = (day: Date) => day.toISOString().slice(0, 10);
const isWeekend = (day: Date) => day.getUTCDay() === 0 || day.getUTCDay() === 6;
const lastOfMonth = (year: number, month: number) => iso(new Date(Date.UTC(year, month + 1, 0)));

describe.each(YEARS)('the official production calendar of %i', (year) => {
  const official = OFFICIAL[year];

  it('states a total equal to the sum of its months (the figures here are consistent)', () => {
    expect(official.months.reduce((a, b) => a + b, 0)).toBe(official.total);
  });

  it('has the official number of working days in every month', () => {
    const counted = Array.from({ length: 12 }, (_, month) =>
      daysOf(year).filter((d) => d.getUTCMonth() === month && calendar.isWorkingDay(iso(d))).length,
    );
    expect(counted).toEqual(official.months);
    const between = Array.from({ length: 12 }, (_, month) =>
      calendar.workingDaysBetween(month === 0 ? `${year - 1}-12-31` : lastOfMonth(year, month - 1), lastOfMonth(year, month)),
    );
    expect(between).toEqual(official.months);
  });

  it('has the official yearly total', () => {
    expect(calendar.workingDaysBetween(`${year - 1}-12-31`, `${year}-12-31`)).toBe(official.total);
  });

  it('rests on exactly the official weekdays off', () => {
    const off = daysOf(year).filter((d) => !isWeekend(d) && !calendar.isWorkingDay(iso(d))).map(iso);
    expect(off).toEqual(official.weekdaysOff);
  });

  it('works on exactly the official working weekend days', () => {
    const worked = daysOf(year).filter((d) => isWeekend(d) && calendar.isWorkingDay(iso(d))).map(iso);
    expect(worked).toEqual(official.weekendsWorked);
  });

  it('knows the year from its data, not from the plain-weekend fallback', () => {
    expect(calendar.covers(year)).toBe(true);
  });
});

describe('a date deadline on those calendars', () => {
  const resolve = (input: string, rule?: NonWorkingDayRule) => {
    const result = resolveDeadline(input, { timezone: TZ, calendar, rule });
    return result && { due: result.due.toISOString(), nominal: result.nominal, moved: result.moved };
  };
  /** The end of the day in Asia/Tomsk (UTC+7). */
  const endOf = (date: string) => `${date}T16:59:59.999Z`;

  it.each([
    ['2024-12-31', 'a weekday off by transfer (from Sunday 7 January)', '2024-12-28', '2025-01-09'],
    ['2024-12-30', 'a weekday off by transfer (from Saturday 28 December)', '2024-12-28', '2025-01-09'],
    ['2025-05-03', 'a Saturday in the May holidays', '2025-04-30', '2025-05-05'],
    ['2023-02-24', 'a Friday off by transfer (from Sunday 1 January)', '2023-02-22', '2023-02-27'],
    ['2025-11-04', 'National Unity Day, a Tuesday', '2025-11-01', '2025-11-05'],
    ['2023-01-08', 'a Sunday in the New Year holidays', '2022-12-30', '2023-01-09'],
    ['2023-11-06', 'the Monday that Saturday 4 November moved to', '2023-11-03', '2023-11-07'],
    ['2024-04-30', 'a Tuesday off for the working Saturday 2 November', '2024-04-27', '2024-05-02'],
    ['2024-05-10', 'a Friday off by transfer (from Saturday 6 January)', '2024-05-08', '2024-05-13'],
    ['2025-06-13', 'a Friday off by transfer (from Saturday 8 March)', '2025-06-11', '2025-06-16'],
    ['2025-12-31', 'New Year’s Eve, off by transfer (from Sunday 5 January)', '2025-12-30', '2026-01-12'],
    ['2024-07-13', 'an ordinary Saturday', '2024-07-12', '2024-07-15'],
  ])('%s (%s) moves to %s under "previous" and to %s under "next"', (date, _what, previous, next) => {
    expect(resolve(date, 'previous')).toEqual({ due: endOf(previous), nominal: date, moved: true });
    expect(resolve(date, 'next')).toEqual({ due: endOf(next), nominal: date, moved: true });
  });

  it('moves to the previous working day when no rule is given', () => {
    expect(resolve('2024-12-31')).toEqual({ due: endOf('2024-12-28'), nominal: '2024-12-31', moved: true });
  });

  it.each([
    ['2024-04-27', 'a working Saturday'],
    ['2024-12-28', 'a working Saturday'],
    ['2025-11-01', 'a working Saturday'],
    ['2025-09-30', 'an ordinary Tuesday'],
    ['2023-02-22', 'the Wednesday before two days off'],
    ['2025-02-24', 'the Monday after Sunday 23 February, which moved to 8 May, not to Monday'],
  ])('%s (%s) stays where it is under either rule', (date) => {
    for (const rule of ['previous', 'next'] as const) {
      expect(resolve(date, rule)).toEqual({ due: endOf(date), nominal: date, moved: false });
    }
  });

  it('reads the moved day in the configured zone', () => {
    const result = resolveDeadline('2024-12-31', { timezone: 'Europe/Moscow', calendar, rule: 'previous' });
    expect(result?.due.toISOString()).toBe('2024-12-28T20:59:59.999Z');
  });
});
