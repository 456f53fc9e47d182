import { CALENDAR_DATA, firstYear, lastYear } from '../../domain/calendar-data';
import { createCalendar } from '../../domain/calendar';

const calendar = createCalendar();

/** Every date of a year, counted with isWorkingDay alone. */
function workingDaysIn(year: number): number {
  let count = 0;
  for (let day = new Date(Date.UTC(year, 0, 1)); day.getUTCFullYear() === year; day = new Date(day.getTime() + 86_400_000)) {
    if (calendar.isWorkingDay(day.toISOString().slice(0, 10))) count += 1;
  }
  return count;
}

describe('the production calendar data', () => {
  // Official totals for a five-day, 40-hour week (Минтруд / КонсультантПлюс production calendars;
  // 2026 checked against glavaudit.org and 4dk.ru).
  it.each([
    [2019, 247],
    [2020, 248],
    [2021, 247],
    [2022, 247],
    [2023, 247],
    [2024, 248],
    [2025, 247],
    [2026, 247],
  ])('gives %i exactly %i working days, as the official calendar does', (year, total) => {
    expect(workingDaysIn(year)).toBe(total);
    expect(calendar.workingDaysBetween(`${year - 1}-12-31`, `${year}-12-31`)).toBe(total);
  });

  it('covers every year from firstYear to lastYear and names a decree for each', () => {
    const years = CALENDAR_DATA.map((entry) => entry.year);
    expect(years).toEqual(Array.from({ length: lastYear - firstYear + 1 }, (_, i) => firstYear + i));
    for (const entry of CALENDAR_DATA) {
      expect(entry.source).toMatch(/Постановление Правительства РФ/);
      expect(entry.source).toContain(String(entry.year));
    }
  });

  it('lists days off only on weekdays and working days only on weekends, each within its year', () => {
    // createCalendar refuses inconsistent data; building it from the built-in data is the check.
    expect(() => createCalendar(CALENDAR_DATA)).not.toThrow();
  });

  it('lists shortened pre-holiday days only on working days', () => {
    for (const entry of CALENDAR_DATA) {
      for (const date of entry.shortDays ?? []) expect(calendar.isWorkingDay(date)).toBe(true);
    }
  });
});

describe('transfers made by the yearly decrees', () => {
  it.each([
    ['2024-04-27', 'a working Saturday in 2024'],
    ['2024-11-02', 'a working Saturday in 2024'],
    ['2024-12-28', 'a working Saturday in 2024'],
    ['2025-11-01', 'a working Saturday in 2025'],
    ['2021-02-20', 'a working Saturday in 2021'],
    ['2022-03-05', 'a working Saturday in 2022'],
    ['2026-01-12', 'the first working day of 2026'],
  ])('treats %s as %s', (date) => {
    expect(calendar.isWorkingDay(date)).toBe(true);
  });

  it.each([
    ['2024-04-29', 'moved from Saturday 27 April'],
    ['2024-04-30', 'moved from Saturday 2 November'],
    ['2024-12-30', 'moved from Saturday 28 December'],
    ['2024-12-31', 'moved from Sunday 7 January'],
    ['2023-02-24', 'moved from Sunday 1 January'],
    ['2023-05-08', 'moved from Sunday 8 January'],
    ['2025-05-02', 'moved from Saturday 4 January'],
    ['2025-05-08', 'moved from Sunday 23 February'],
    ['2025-06-13', 'moved from Saturday 8 March'],
    ['2025-11-03', 'moved from Saturday 1 November'],
    ['2025-12-31', 'moved from Sunday 5 January'],
    ['2026-01-09', 'moved from Saturday 3 January'],
    ['2026-12-31', 'moved from Sunday 4 January'],
    ['2023-11-06', 'Saturday 4 November moved to Monday by art. 112'],
    ['2026-03-09', 'Sunday 8 March moved to Monday by art. 112'],
  ])('treats %s as a day off (%s)', (date) => {
    expect(calendar.isWorkingDay(date)).toBe(false);
  });

  it('keeps ordinary weekdays working and ordinary weekends off', () => {
    expect(calendar.isWorkingDay('2025-02-24')).toBe(true); // 23 February 2025 moved to 8 May, not to Monday
    expect(calendar.isWorkingDay('2025-03-10')).toBe(true); // 8 March 2025 moved to 13 June
    expect(calendar.isWorkingDay('2024-07-13')).toBe(false); // a plain Saturday
  });
});

describe('stepping between working days', () => {
  it('goes from the last days of 2024 over the New Year holidays to 9 January 2025', () => {
    expect(calendar.nextWorkingDay('2024-12-30')).toBe('2025-01-09');
    expect(calendar.nextWorkingDay('2024-12-28')).toBe('2025-01-09');
  });

  it('goes back from the New Year holidays to the working Saturday 28 December 2024', () => {
    expect(calendar.previousWorkingDay('2025-01-05')).toBe('2024-12-28');
  });

  it('steps strictly past a working day', () => {
    expect(calendar.nextWorkingDay('2024-04-26')).toBe('2024-04-27');
    expect(calendar.previousWorkingDay('2024-05-02')).toBe('2024-04-27');
  });

  it('adds working days across the May holidays of 2025', () => {
    // 30 April (Wed) + 1 → 5 May (1–4 May off); + 4 → 12 May (8–11 May off).
    expect(calendar.addWorkingDays('2025-04-30', 1)).toBe('2025-05-05');
    expect(calendar.addWorkingDays('2025-04-30', 4)).toBe('2025-05-12');
    expect(calendar.addWorkingDays('2025-05-12', -4)).toBe('2025-04-30');
  });

  it('adds ten working days from a holiday, counting from the next working day', () => {
    expect(calendar.addWorkingDays('2025-01-01', 1)).toBe('2025-01-09');
    expect(calendar.addWorkingDays('2025-01-01', 10)).toBe('2025-01-22');
  });

  it('returns the date itself for zero days when it is working, else the next working day', () => {
    expect(calendar.addWorkingDays('2025-01-09', 0)).toBe('2025-01-09');
    expect(calendar.addWorkingDays('2025-01-04', 0)).toBe('2025-01-09');
  });

  it('counts working days in (from, to] and undoes addWorkingDays', () => {
    expect(calendar.workingDaysBetween('2024-12-27', '2025-01-09')).toBe(2); // 28 Dec and 9 Jan
    expect(calendar.workingDaysBetween('2025-01-09', '2024-12-27')).toBe(-2);
    expect(calendar.workingDaysBetween('2025-01-09', '2025-01-09')).toBe(0);
    const from = '2024-04-26';
    for (const n of [1, 5, 17, 60, -1, -9, -40]) {
      expect(calendar.workingDaysBetween(from, calendar.addWorkingDays(from, n))).toBe(n);
    }
  });
});

describe('years outside the data', () => {
  it('says which years it covers', () => {
    expect(calendar.covers(2019)).toBe(true);
    expect(calendar.covers(lastYear)).toBe(true);
    expect(calendar.covers(2018)).toBe(false);
    expect(calendar.covers(lastYear + 1)).toBe(false);
  });

  it('falls back to plain weekends for a year not covered', () => {
    expect(calendar.isWorkingDay('2030-01-01')).toBe(true); // a Tuesday; no holidays known
    expect(calendar.isWorkingDay('2030-01-05')).toBe(false); // a Saturday
    expect(calendar.nextWorkingDay('2030-01-04')).toBe('2030-01-07');
    expect(calendar.workingDaysBetween('2029-12-31', '2030-12-31')).toBe(261);
  });

  it('uses a year an administrator adds at run time, replacing any built-in entry', () => {
    const withExtra = createCalendar(CALENDAR_DATA, [
      { year: 2030, source: 'test', daysOff: ['2030-01-01'], workingWeekends: ['2030-01-05'] },
    ]);
    expect(withExtra.covers(2030)).toBe(true);
    expect(withExtra.isWorkingDay('2030-01-01')).toBe(false);
    expect(withExtra.isWorkingDay('2030-01-05')).toBe(true);
    expect(createCalendar(CALENDAR_DATA, [{ year: 2024, source: 'test', daysOff: [], workingWeekends: [] }]).isWorkingDay('2024-04-29')).toBe(true);
  });

  it('refuses added data that cannot be right', () => {
    expect(() => createCalendar(CALENDAR_DATA, [{ year: 2030, source: 't', daysOff: ['2030-01-05'], workingWeekends: [] }])).toThrow(RangeError);
    expect(() => createCalendar(CALENDAR_DATA, [{ year: 2030, source: 't', daysOff: ['2031-01-01'], workingWeekends: [] }])).toThrow(RangeError);
    expect(() => createCalendar(CALENDAR_DATA, [{ year: 2030, source: 't', daysOff: [], workingWeekends: ['2030-01-07'] }])).toThrow(RangeError);
  });

  it('refuses strings that are not calendar dates', () => {
    expect(() => calendar.isWorkingDay('2023-02-30')).toThrow(RangeError);
    expect(() => calendar.isWorkingDay('30.09.2022')).toThrow(RangeError);
    expect(() => calendar.addWorkingDays('2025-01-09', 1.5)).toThrow(RangeError);
  });
});
