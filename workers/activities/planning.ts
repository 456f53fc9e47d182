/**
 * Plans an assignment's reminders and escalation for its current deadline. An activity, not workflow
 * code: it reads the recommendation's policy and the production calendar (which an administrator can
 * extend) and uses the time zone database. Its result is recorded in the workflow's history, so a
 * replay sees the same plan even if the policy or the calendar changed since.
 */
import type { WorkingCalendar } from '../../domain/calendar';
import { cycleAt, recurringDeadlineOf } from '../../domain/cycles';
import type { NonWorkingDayRule } from '../../domain/deadline';
import { planSteps, type PlannedStep } from '../../domain/policy';
import { loadDefaultPolicy } from '../../store/policy';
import type { Repositories } from '../../store/repositories';
import type { CycleToIssue } from '../../workflows/definitions';

export interface PlanNotificationsInput {
  recommendationId: string;
  /** ISO instant of the current deadline. */
  due: string;
  /** ISO instant the assignment was issued: late issues get their grace from then. */
  issuedAt: string;
  /** ISO instant of planning: reminders already past are not planned. */
  plannedAt: string;
}

export function createPlanningActivities({
  repos,
  calendar: loadCalendar,
  timezone,
  notifyHour,
  rule,
}: {
  repos: Repositories;
  /** The production calendar as it stands now, administrator-added years included. */
  calendar: () => Promise<WorkingCalendar>;
  timezone: string;
  notifyHour: number;
  /** Where a date deadline on a non-working day moves (DEADLINE_NON_WORKING_DAY). */
  rule: NonWorkingDayRule;
}) {
  return {
    async planNotifications(input: PlanNotificationsInput): Promise<PlannedStep[]> {
      const rec = await repos.recommendations.cached(input.recommendationId);
      const policy = rec?.policy ?? (await loadDefaultPolicy(repos));
      const calendar = await loadCalendar();
      return planSteps(
        policy,
        { due: new Date(input.due), issuedAt: new Date(input.issuedAt), plannedAt: new Date(input.plannedAt) },
        { calendar, timezone, notifyHour },
      );
    },

    /**
     * Cycle `cycle` of a recurring recommendation, by the calendar as it stands: its deadline, when
     * it appears and its name. Null when the recommendation does not recur (or is gone).
     */
    async planCycle(input: { recommendationId: string; cycle: number }): Promise<CycleToIssue | null> {
      const rec = await repos.recommendations.cached(input.recommendationId);
      const deadline = rec && recurringDeadlineOf(rec);
      if (!deadline) return null;
      const cycle = cycleAt(deadline, input.cycle, { calendar: await loadCalendar(), timezone, rule });
      return { cycle: cycle.cycle, due: cycle.due.toISOString(), appearsAt: cycle.appearsAt.toISOString(), period: cycle.period };
    },
  };
}
