/**
 * Recurring recommendations: «срок: сентябрь 2023 г., далее – ежегодно» makes one assignment per
 * cycle (2023, 2024, …), each with its own deadline, evidence and timers.
 *
 * Cycle k's deadline is the first deadline's date moved by k − 1 periods (a month-end date stays at
 * month ends: 30.09 → 30.09, 31.03 + a quarter → 30.06), then the working-day rule of the calendar.
 * An `interval` recurrence (an ISO duration, "PT30S") steps the first deadline's instant exactly: it
 * is for demonstrations and tests, where a year is too long to wait.
 *
 * A cycle's assignment appears `leadTime` before its deadline (by default one period, so the next
 * cycle opens when the previous one falls due). Issuing starts with the latest cycle that has
 * already appeared, or the first one: nobody is asked today for a period that closed years ago.
 */
import { DateTime, Duration } from 'luxon';
import type { WorkingCalendar } from './calendar';
import { resolveDeadline, type NonWorkingDayRule } from './deadline';
import { hasTimePart, offsetProblem, type Offset } from './policy';

export const FREQUENCIES = ['yearly', 'quarterly', 'monthly', 'interval'] as const;
export type RecurrenceFrequency = (typeof FREQUENCIES)[number];

export interface Recurrence {
  frequency: RecurrenceFrequency;
  /** For `interval` only: the ISO duration between deadlines. */
  every?: string;
  /** True when the first date is the last day of its month: later cycles keep to month ends. */
  monthEnd: boolean;
  /** How long before its deadline a cycle's assignment appears. */
  leadTime: Offset;
}

export interface Cycle {
  cycle: number;
  /** The date the cycle's deadline names, YYYY-MM-DD (for `interval`, the ISO instant). */
  nominal: string;
  due: Date;
  /** When the cycle's assignments are issued. */
  appearsAt: Date;
  /** How people name the cycle: «2024», «II кв. 2024», «09.2024», «цикл 3». */
  period: string;
}

export interface RecurringDeadline {
  /** The first cycle's deadline: its date as written (or the ISO instant for `interval`) and due. */
  nominal: string;
  due: Date;
  recurrence: Recurrence;
}

export interface CycleContext {
  calendar: WorkingCalendar;
  timezone: string;
  rule: NonWorkingDayRule;
}

/** The shortest interval allowed: a cycle needs time to be issued before the next one. */
export const MIN_INTERVAL_SECONDS = 10;
/** Issuing never looks further back than this many cycles to find the current one. */
const MAX_CATCH_UP = 10_000;

const MONTHS: Record<Exclude<RecurrenceFrequency, 'interval'>, number> = { yearly: 12, quarterly: 3, monthly: 1 };

/** The default lead time: one period, so the next cycle appears as the previous one falls due. */
export function defaultLeadTime(frequency: RecurrenceFrequency, every?: string): Offset {
  if (frequency === 'interval') return every ?? 'PT1M';
  return frequency === 'yearly' ? 'P1Y' : frequency === 'quarterly' ? 'P3M' : 'P1M';
}

export function isMonthEnd(isoDate: string): boolean {
  const day = DateTime.fromISO(isoDate, { zone: 'utc' });
  return day.isValid && day.day === day.daysInMonth;
}

/** Why a recurrence cannot be used with this first deadline, in Russian; undefined when it can. */
export function recurrenceProblem(recurrence: Pick<Recurrence, 'frequency' | 'every' | 'leadTime'>, firstInput: string): string | undefined {
  if (recurrence.frequency === 'interval') {
    const every = recurrence.every ? Duration.fromISO(recurrence.every) : undefined;
    if (!every || !every.isValid) return 'для повторения с интервалом укажите every — длительность ISO 8601 (например, PT30S)';
    if (every.as('seconds') < MIN_INTERVAL_SECONDS) return `интервал повторения — не меньше ${MIN_INTERVAL_SECONDS} секунд`;
  } else {
    if (recurrence.every !== undefined) return 'every указывается только для повторения с интервалом (interval)';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(firstInput)) return 'для ежегодного, ежеквартального и ежемесячного срока укажите дату ГГГГ-ММ-ДД';
  }
  const leadProblem = offsetProblem(recurrence.leadTime);
  if (leadProblem) return `упреждение: ${leadProblem}`;
  if (periodMillis(recurrence) < leadMillis(recurrence.leadTime)) return 'упреждение не может быть больше периода повторения';
  return undefined;
}

/** Cycle k (1-based) of a recurring deadline. */
export function cycleAt(deadline: RecurringDeadline, k: number, context: CycleContext): Cycle {
  const { recurrence } = deadline;
  if (recurrence.frequency === 'interval') {
    const due = DateTime.fromJSDate(deadline.due).plus(Duration.fromISO(recurrence.every!).mapUnits((x) => x * (k - 1)));
    const dueDate = due.toJSDate();
    return { cycle: k, nominal: due.toISO()!, due: dueDate, appearsAt: appearsAt(dueDate, recurrence.leadTime, context), period: `цикл ${k}` };
  }
  const first = DateTime.fromISO(deadline.nominal, { zone: 'utc' });
  const moved = first.plus({ months: MONTHS[recurrence.frequency] * (k - 1) });
  const nominal = (recurrence.monthEnd ? moved.endOf('month') : moved).toISODate()!;
  const resolved = resolveDeadline(nominal, context);
  if (!resolved) throw new RangeError(`cycle ${k} of ${deadline.nominal} has no date`);
  return {
    cycle: k,
    nominal,
    due: resolved.due,
    appearsAt: appearsAt(resolved.due, recurrence.leadTime, context),
    period: periodName(recurrence.frequency, nominal),
  };
}

/** The cycle issuing starts with at `now`: the latest that has appeared, and at least the first. */
export function currentCycle(deadline: RecurringDeadline, now: Date, context: CycleContext): Cycle {
  let current = cycleAt(deadline, 1, context);
  if (deadline.recurrence.frequency === 'interval') {
    // Arithmetic, not a walk: a seconds-scale interval may be thousands of cycles behind.
    const step = Duration.fromISO(deadline.recurrence.every!).as('milliseconds');
    const behind = Math.floor((now.getTime() - current.appearsAt.getTime()) / step);
    return behind > 0 ? cycleAt(deadline, 1 + behind, context) : current;
  }
  for (let k = 2; k <= MAX_CATCH_UP; k += 1) {
    const next = cycleAt(deadline, k, context);
    if (next.appearsAt > now) break;
    current = next;
  }
  return current;
}

function appearsAt(due: Date, leadTime: Offset, { calendar, timezone }: CycleContext): Date {
  const local = DateTime.fromJSDate(due, { zone: timezone });
  if (typeof leadTime === 'object') {
    const day = calendar.addWorkingDays(local.toISODate()!, -leadTime.workingDays);
    return DateTime.fromISO(day, { zone: timezone }).startOf('day').toJSDate();
  }
  const duration = Duration.fromISO(leadTime);
  // A whole-day lead time opens the cycle at the start of that day, not at the deadline's hour.
  return hasTimePart(duration) ? local.minus(duration).toJSDate() : local.minus(duration).startOf('day').toJSDate();
}

function periodName(frequency: Exclude<RecurrenceFrequency, 'interval'>, nominal: string): string {
  const date = DateTime.fromISO(nominal, { zone: 'utc' });
  if (frequency === 'yearly') return String(date.year);
  if (frequency === 'quarterly') return `${['I', 'II', 'III', 'IV'][date.quarter - 1]} кв. ${date.year}`;
  return date.toFormat('LL.yyyy');
}

function periodMillis(recurrence: Pick<Recurrence, 'frequency' | 'every'>): number {
  if (recurrence.frequency === 'interval') return Duration.fromISO(recurrence.every!).as('milliseconds');
  // Luxon's casual units (a month of 30 days, a year of 365), the same that measure the lead time.
  const period = recurrence.frequency === 'yearly' ? { years: 1 } : { months: MONTHS[recurrence.frequency] };
  return Duration.fromObject(period).as('milliseconds');
}

function leadMillis(leadTime: Offset): number {
  // A working day is at least a calendar day: a lower bound is what the check needs.
  if (typeof leadTime === 'object') return leadTime.workingDays * 86_400_000;
  return Duration.fromISO(leadTime).as('milliseconds');
}

/** A stored recommendation's recurring deadline, or undefined for a one-off one. */
export function recurringDeadlineOf(rec: {
  deadline: { due: Date; input: string; nominal?: string };
  recurrence?: Recurrence;
}): RecurringDeadline | undefined {
  if (!rec.recurrence) return undefined;
  const nominal = rec.recurrence.frequency === 'interval' ? rec.deadline.due.toISOString() : (rec.deadline.nominal ?? rec.deadline.input);
  return { nominal, due: rec.deadline.due, recurrence: rec.recurrence };
}
