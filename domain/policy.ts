/**
 * Notification policy: reminders before an assignment's deadline and an escalation ladder after it.
 *
 * A policy is data (stored on each recommendation, with an admin-editable default); `planSteps`
 * turns it into instants for one deadline. Planning runs in an activity, not in workflow code: it
 * needs the time zone database and the production calendar, which an administrator can extend.
 *
 * Offsets are ISO-8601 durations or working days:
 *  - a duration with date parts only ("P14D", "P1W", "P1M") is calendar arithmetic on the deadline's
 *    date in the authority's zone, and the step goes out at the notification hour of that day;
 *  - a duration with a time part ("PT30S", "PT2H") is exact arithmetic on the deadline instant
 *    (for tests and for same-day deadlines);
 *  - `{workingDays: n}` counts working days of the production calendar, then the notification hour.
 *
 * Escalation is measured from the deadline, or from the moment of issue when an assignment was
 * issued already late: the addressee gets the same grace before its head hears about it.
 */
import { DateTime, Duration } from 'luxon';
import type { WorkingCalendar } from './calendar';
import { pluralRu } from './russian';

export const AUDIENCES = ['coordinator', 'head', 'curator', 'observers'] as const;
/** Who receives an email, resolved from stored contacts only when it is sent. */
export type Audience = (typeof AUDIENCES)[number];

export type Offset = string | { workingDays: number };

export interface EscalationStep {
  after: Offset;
  to: Audience | Audience[];
}

export interface RepeatRule {
  /** Interval after the last escalation step (or the deadline when there is none). */
  every: Offset;
  to: Audience | Audience[];
  /** How many repeats at most; each is a step of its own, sent once. */
  times: number;
}

export interface NotificationPolicy {
  /** Reminders to the organisation's coordinators while the deadline is ahead. */
  remindBefore: Offset[];
  /** Steps after the deadline while the assignment stays late, each sent once. */
  escalateAfter: EscalationStep[];
  /** Reminders that keep coming while the assignment stays late, so no single email is forgotten. */
  repeat?: RepeatRule;
}

export const DEFAULT_POLICY: NotificationPolicy = {
  remindBefore: ['P14D', 'P3D', { workingDays: 1 }],
  escalateAfter: [
    { after: { workingDays: 3 }, to: 'head' },
    { after: 'P10D', to: 'observers' },
  ],
  repeat: { every: { workingDays: 5 }, to: 'coordinator', times: 12 },
};

export const MAX_STEPS = 10;
export const MAX_REPEATS = 52;
/** No offset reaches further than this: a longer one is a typo, not a policy. */
const MAX_OFFSET_DAYS = 366;
export const MAX_WORKING_DAYS = 250;

export type PlannedStepKind = 'reminder' | 'escalation' | 'repeat';

export interface PlannedStep {
  /** Unique within one deadline: `reminder-2`, `escalation-1`, `repeat-3`. */
  id: string;
  kind: PlannedStepKind;
  /** 1-based position in its list of the policy. */
  index: number;
  /** ISO instant the step is due. */
  at: string;
  to: Audience[];
}

/** Why an offset is not usable, in Russian; undefined when it is. */
export function offsetProblem(offset: Offset): string | undefined {
  if (typeof offset === 'object') {
    const n = offset.workingDays;
    if (!Number.isInteger(n) || n < 0 || n > MAX_WORKING_DAYS) return `рабочих дней должно быть от 0 до ${MAX_WORKING_DAYS}`;
    return undefined;
  }
  const duration = Duration.fromISO(offset);
  if (!duration.isValid || !/\d/.test(offset)) return `«${offset}» — не длительность ISO 8601 (например, P3D или PT30S)`;
  const values = Object.values(duration.toObject());
  if (values.some((v) => v < 0)) return 'длительность не может быть отрицательной';
  if (duration.as('days') > MAX_OFFSET_DAYS) return `длительность не может превышать ${MAX_OFFSET_DAYS} дней`;
  return undefined;
}

/** A person-readable form of an offset: «3 рабочих дня», «P14D». */
export function describeOffset(offset: Offset): string {
  if (typeof offset === 'object') return `${offset.workingDays} ${pluralRu(offset.workingDays, ['рабочий день', 'рабочих дня', 'рабочих дней'])}`;
  const duration = Duration.fromISO(offset);
  const days = duration.as('days');
  if (Number.isInteger(days) && !hasTimePart(duration)) return `${days} ${pluralRu(days, ['день', 'дня', 'дней'])}`;
  return offset;
}

export function hasTimePart(duration: Duration): boolean {
  const { hours = 0, minutes = 0, seconds = 0, milliseconds = 0 } = duration.toObject();
  return hours !== 0 || minutes !== 0 || seconds !== 0 || milliseconds !== 0;
}

export interface PlanContext {
  calendar: WorkingCalendar;
  timezone: string;
  /** Local hour (0–23) at which day-granular steps go out. */
  notifyHour: number;
}

/**
 * The steps of `policy` for one deadline, earliest first. Reminders that would fall at or before
 * `plannedAt` are left out: the email that set this deadline (issue, extension) already named it.
 * Reminders at or after the deadline are left out too: they would arrive as news of a miss.
 */
export function planSteps(
  policy: NotificationPolicy,
  { due, issuedAt, plannedAt }: { due: Date; issuedAt: Date; plannedAt: Date },
  context: PlanContext,
): PlannedStep[] {
  const steps: PlannedStep[] = [];
  policy.remindBefore.forEach((offset, i) => {
    const at = shift(due, offset, -1, context);
    if (at > plannedAt.getTime() && at < due.getTime()) {
      steps.push({ id: `reminder-${i + 1}`, kind: 'reminder', index: i + 1, at: new Date(at).toISOString(), to: ['coordinator'] });
    }
  });
  const anchor = new Date(Math.max(due.getTime(), issuedAt.getTime()));
  policy.escalateAfter.forEach((step, i) => {
    // Never before the anchor: "0 days after" a deadline at 23:59 must not go out that morning.
    const at = Math.max(shift(anchor, step.after, 1, context), anchor.getTime());
    steps.push({ id: `escalation-${i + 1}`, kind: 'escalation', index: i + 1, at: new Date(at).toISOString(), to: audiences(step.to) });
  });
  if (policy.repeat && policy.repeat.times > 0) {
    // Counted from the last escalation step, so repeats never crowd the ladder itself.
    let from = Math.max(anchor.getTime(), ...steps.filter((s) => s.kind === 'escalation').map((s) => Date.parse(s.at)));
    for (let k = 1; k <= Math.min(policy.repeat.times, MAX_REPEATS); k += 1) {
      // A zero interval would pile every repeat on one instant: a repeat is at least a second on.
      from = Math.max(shift(new Date(from), policy.repeat.every, 1, context), from + 1_000);
      steps.push({ id: `repeat-${k}`, kind: 'repeat', index: k, at: new Date(from).toISOString(), to: audiences(policy.repeat.to) });
    }
  }
  return steps.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id.localeCompare(b.id));
}

function audiences(to: Audience | Audience[]): Audience[] {
  return [...new Set(Array.isArray(to) ? to : [to])];
}

/**
 * `from` moved by `offset` in `direction`, as epoch milliseconds. A day-granular step never lands on
 * a day off, when nobody reads it: a reminder goes out on the working day before, an escalation on
 * the working day after.
 */
function shift(from: Date, offset: Offset, direction: 1 | -1, { calendar, timezone, notifyHour }: PlanContext): number {
  const local = DateTime.fromJSDate(from, { zone: timezone });
  let day: string;
  if (typeof offset === 'object') {
    day = calendar.addWorkingDays(local.toISODate()!, direction * offset.workingDays);
  } else {
    const duration = Duration.fromISO(offset);
    if (hasTimePart(duration)) return (direction > 0 ? local.plus(duration) : local.minus(duration)).toMillis();
    day = (direction > 0 ? local.plus(duration) : local.minus(duration)).toISODate()!;
  }
  if (!calendar.isWorkingDay(day)) day = direction > 0 ? calendar.nextWorkingDay(day) : calendar.previousWorkingDay(day);
  return atHour(day, notifyHour, timezone);
}

function atHour(isoDate: string, hour: number, timezone: string): number {
  return DateTime.fromISO(isoDate, { zone: timezone }).set({ hour, minute: 0, second: 0, millisecond: 0 }).toMillis();
}
