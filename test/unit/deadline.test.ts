import { createCalendar } from '../../domain/calendar';
import { calendarKnown, formatDateRu, isDeadlineInput, isoDateIn, parseDue, resolveDeadline } from '../../domain/deadline';

describe('deadlines as the API accepts them', () => {
  it('reads a calendar date as the end of that day in Asia/Tomsk (UTC+7)', () => {
    expect(parseDue('2022-09-30', 'Asia/Tomsk')?.toISOString()).toBe('2022-09-30T16:59:59.999Z');
  });

  it('reads the same date in another configured zone by that zone', () => {
    expect(parseDue('2022-09-30', 'Europe/Moscow')?.toISOString()).toBe('2022-09-30T20:59:59.999Z');
  });

  it('takes a full ISO date-time literally', () => {
    expect(parseDue('2030-01-02T03:04:05Z', 'Asia/Tomsk')?.toISOString()).toBe('2030-01-02T03:04:05.000Z');
    expect(parseDue('2030-01-02T10:00:00+07:00', 'Asia/Tomsk')?.toISOString()).toBe('2030-01-02T03:00:00.000Z');
  });

  it.each(['2023-02-30', '2023-13-01', '30.09.2022', 'сентябрь 2022', '2030-01-02T03:04:05', ''])(
    'refuses %p',
    (input) => {
      expect(parseDue(input, 'Asia/Tomsk')).toBeUndefined();
    },
  );

  it('tells the accepted forms apart from the rest before parsing', () => {
    expect(isDeadlineInput('2022-09-30')).toBe(true);
    expect(isDeadlineInput('2022-09-30T10:00Z')).toBe(true);
    expect(isDeadlineInput('2022-09-30T10:00')).toBe(false);
  });

  it('formats dates as DD.MM.YYYY in the authority’s zone', () => {
    expect(formatDateRu('2022-09-30T16:59:59.999Z', 'Asia/Tomsk')).toBe('30.09.2022');
    expect(formatDateRu('2022-09-30T17:00:00.000Z', 'Asia/Tomsk')).toBe('01.10.2022');
  });
});

describe('the working-day rule for deadlines', () => {
  const calendar = createCalendar();

  it.each([
    ['2024-12-31T18:00:00+07:00', '2024-12-31T11:00:00.000Z', 'on a weekday off by transfer'],
    ['2025-01-01T09:00:00Z', '2025-01-01T09:00:00.000Z', 'on New Year’s Day'],
    ['2024-07-13T10:00+07:00', '2024-07-13T03:00:00.000Z', 'on an ordinary Saturday'],
  ])('takes the date-time %s literally, never moving it (%s)', (input, due) => {
    for (const rule of ['previous', 'next'] as const) {
      const result = resolveDeadline(input, { timezone: 'Asia/Tomsk', calendar, rule });
      expect(result && { ...result, due: result.due.toISOString() }).toEqual({ due, nominal: input, moved: false, calendarKnown: true });
    }
  });

  it('gives a working date the end of that day, as parseDue does', () => {
    expect(resolveDeadline('2022-09-30', { timezone: 'Asia/Tomsk', calendar })).toEqual({
      due: parseDue('2022-09-30', 'Asia/Tomsk'),
      nominal: '2022-09-30',
      moved: false,
      calendarKnown: true,
    });
  });

  it('falls back to plain weekends in a year the calendar has no data for', () => {
    expect(resolveDeadline('2099-01-31', { timezone: 'Asia/Tomsk', calendar })?.due.toISOString()).toBe('2099-01-30T16:59:59.999Z');
    expect(resolveDeadline('2099-09-30', { timezone: 'Asia/Tomsk', calendar })?.moved).toBe(false);
    // And says so: a holiday of that year may have been missed.
    expect(resolveDeadline('2099-09-30', { timezone: 'Asia/Tomsk', calendar })?.calendarKnown).toBe(false);
  });

  it('knows the calendar of a date deadline only when both its years are covered', () => {
    const covers = (year: number) => year <= 2026;
    expect(calendarKnown('2026-06-01', '2026-06-01', { covers })).toBe(true);
    expect(calendarKnown('2027-01-05', '2027-01-05', { covers })).toBe(false);
    // 1 January 2027 moved back to the last day of 2026: its own year is unknown all the same.
    expect(calendarKnown('2027-01-01', '2026-12-31', { covers })).toBe(false);
    expect(calendarKnown('2026-12-31', '2027-01-04', { covers })).toBe(false);
    expect(calendarKnown('2027-01-05T10:00:00+07:00', '2027-01-05', { covers })).toBe(true);
  });

  it.each(['2023-02-30', '0001-01-01', '30.09.2022', '2030-01-02T03:04:05', ''])('refuses %p', (input) => {
    expect(resolveDeadline(input, { timezone: 'Asia/Tomsk', calendar })).toBeUndefined();
  });

  it('names the day a moment falls on in the zone', () => {
    expect(isoDateIn(new Date('2024-12-28T16:59:59.999Z'), 'Asia/Tomsk')).toBe('2024-12-28');
    expect(isoDateIn(new Date('2024-12-28T17:00:00.000Z'), 'Asia/Tomsk')).toBe('2024-12-29');
  });
});
