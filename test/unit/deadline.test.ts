import { formatDateRu, isDeadlineInput, parseDue } from '../../domain/deadline';

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
