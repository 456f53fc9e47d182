import { DateTime } from 'luxon';
import { createCalendar } from '../../domain/calendar';
import { currentCycle, cycleAt, defaultLeadTime, isMonthEnd, recurrenceProblem, type RecurringDeadline } from '../../domain/cycles';
import { resolveDeadline } from '../../domain/deadline';

const zone = 'Asia/Tomsk';
const context = { calendar: createCalendar(), timezone: zone, rule: 'previous' as const };

function calendarDeadline(nominal: string, frequency: 'yearly' | 'quarterly' | 'monthly', leadTime = defaultLeadTime(frequency)): RecurringDeadline {
  const due = resolveDeadline(nominal, context)!.due;
  return { nominal, due, recurrence: { frequency, monthEnd: isMonthEnd(nominal), leadTime } };
}
const local = (d: Date) => DateTime.fromJSDate(d, { zone }).toFormat('yyyy-LL-dd HH:mm');
const at = (s: string) => DateTime.fromISO(s, { zone }).toJSDate();

describe('recurring deadlines: cycle k', () => {
  it('steps the seed letter’s yearly item across years, moving each deadline off days off', () => {
    const yearly = calendarDeadline('2023-09-30', 'yearly'); // «сентябрь 2023 г., далее – ежегодно»
    const rows = [1, 2, 3, 4, 5].map((k) => cycleAt(yearly, k, context)).map((c) => [c.cycle, c.nominal, local(c.due), c.period]);
    expect(rows).toEqual([
      [1, '2023-09-30', '2023-09-29 23:59', '2023'], // Saturday → Friday
      [2, '2024-09-30', '2024-09-30 23:59', '2024'],
      [3, '2025-09-30', '2025-09-30 23:59', '2025'],
      [4, '2026-09-30', '2026-09-30 23:59', '2026'],
      [5, '2027-09-30', '2027-09-30 23:59', '2027'],
    ]);
  });

  it('keeps quarterly month ends across the year boundary and names the quarter', () => {
    const quarterly = calendarDeadline('2024-09-30', 'quarterly');
    const rows = [1, 2, 3, 4].map((k) => cycleAt(quarterly, k, context)).map((c) => [c.nominal, local(c.due).slice(0, 10), c.period]);
    expect(rows).toEqual([
      ['2024-09-30', '2024-09-30', 'III кв. 2024'],
      ['2024-12-31', '2024-12-28', 'IV кв. 2024'], // 31.12.2024 off, 28.12 a working Saturday
      ['2025-03-31', '2025-03-31', 'I кв. 2025'],
      ['2025-06-30', '2025-06-30', 'II кв. 2025'],
    ]);
  });

  it('keeps a monthly day of month that is not a month end, through the New Year holidays', () => {
    const monthly = calendarDeadline('2024-12-05', 'monthly');
    const rows = [1, 2, 3].map((k) => cycleAt(monthly, k, context)).map((c) => [c.nominal, local(c.due).slice(0, 10), c.period]);
    expect(rows).toEqual([
      ['2024-12-05', '2024-12-05', '12.2024'],
      ['2025-01-05', '2024-12-28', '01.2025'], // 1–8 January off: the last working day before is 28.12.2024
      ['2025-02-05', '2025-02-05', '02.2025'],
    ]);
  });

  it('follows month ends through February in a leap year', () => {
    const monthly = calendarDeadline('2024-01-31', 'monthly');
    expect([2, 3].map((k) => cycleAt(monthly, k, context).nominal)).toEqual(['2024-02-29', '2024-03-31']);
  });

  it('steps an interval recurrence by exact durations', () => {
    const due = new Date('2026-11-22T10:00:00Z');
    const interval: RecurringDeadline = { nominal: due.toISOString(), due, recurrence: { frequency: 'interval', every: 'PT30S', monthEnd: false, leadTime: 'PT20S' } };
    const third = cycleAt(interval, 3, context);
    expect(third.due.toISOString()).toBe('2026-11-22T10:01:00.000Z');
    expect(third.appearsAt.toISOString()).toBe('2026-11-22T10:00:40.000Z');
    expect(third.period).toBe('цикл 3');
  });
});

describe('recurring deadlines: when a cycle appears and which one is current', () => {
  it('opens a yearly cycle one year before its deadline by default, at the start of the day', () => {
    const yearly = calendarDeadline('2023-09-30', 'yearly');
    expect(local(cycleAt(yearly, 5, context).appearsAt)).toBe('2026-09-30 00:00');
  });

  it('counts a working-day lead time on the calendar', () => {
    const yearly = calendarDeadline('2023-09-30', 'yearly', { workingDays: 5 });
    // 5 working days before Friday 29.09.2023 is Friday 22.09.2023.
    expect(local(cycleAt(yearly, 1, context).appearsAt)).toBe('2023-09-22 00:00');
  });

  it('issues the seed letter’s yearly item today for the cycle under way, not for closed years', () => {
    const yearly = calendarDeadline('2023-09-30', 'yearly');
    expect(currentCycle(yearly, at('2026-11-22T12:00'), context).period).toBe('2027');
    const short = calendarDeadline('2023-09-30', 'yearly', 'P60D');
    // With two months' lead, the 2027 cycle has not opened yet: 2026 is current, and already late.
    expect(currentCycle(short, at('2026-11-22T12:00'), context).period).toBe('2026');
  });

  it('starts with the first cycle when none has opened yet', () => {
    const yearly = calendarDeadline('2030-09-30', 'yearly', 'P30D');
    expect(currentCycle(yearly, at('2026-11-22T12:00'), context).cycle).toBe(1);
  });

  it('finds the current interval cycle by arithmetic', () => {
    const due = new Date('2026-01-01T00:00:00Z');
    const interval: RecurringDeadline = { nominal: due.toISOString(), due, recurrence: { frequency: 'interval', every: 'PT10S', monthEnd: false, leadTime: 'PT10S' } };
    // cycle k appears at due + (k − 2) × 10 s: at +1 h, cycle 362 has appeared and 363 has not.
    expect(currentCycle(interval, new Date('2026-01-01T01:00:00Z'), context).cycle).toBe(362);
  });
});

describe('recurring deadlines: validation', () => {
  it.each([
    [{ frequency: 'yearly', leadTime: 'P1Y' }, '2023-09-30', undefined],
    [{ frequency: 'yearly', leadTime: 'P2Y' }, '2023-09-30', 'упреждение: длительность не может превышать 366 дней'],
    [{ frequency: 'monthly', leadTime: 'P45D' }, '2023-09-30', 'упреждение не может быть больше периода повторения'],
    [{ frequency: 'quarterly', leadTime: 'P3M' }, '2023-09-30', undefined],
    [{ frequency: 'yearly', leadTime: 'P1Y' }, '2023-09-30T12:00:00+07:00', 'для ежегодного, ежеквартального и ежемесячного срока укажите дату ГГГГ-ММ-ДД'],
    [{ frequency: 'yearly', every: 'P1Y', leadTime: 'P1Y' }, '2023-09-30', 'every указывается только для повторения с интервалом (interval)'],
    [{ frequency: 'interval', leadTime: 'PT5S' }, '2023-09-30', 'для повторения с интервалом укажите every — длительность ISO 8601 (например, PT30S)'],
    [{ frequency: 'interval', every: 'PT5S', leadTime: 'PT5S' }, '2023-09-30', 'интервал повторения — не меньше 10 секунд'],
    [{ frequency: 'interval', every: 'PT30S', leadTime: 'PT1M' }, '2023-09-30', 'упреждение не может быть больше периода повторения'],
    [{ frequency: 'monthly', leadTime: { workingDays: 5 } }, '2023-09-30', undefined],
  ] as const)('%j from %s → %s', (recurrence, first, problem) => {
    expect(recurrenceProblem(recurrence, first)).toBe(problem);
  });
});
