/**
 * Recommendations: create drafts, issue them (one assignment workflow per addressee, started by the
 * recommendation's own workflow), withdraw them. Used by the routes and by the demo data.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type Client, WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { ActorRef } from '../../domain/assignment';
import { LAST_DEADLINE_YEAR, resolveDeadline, type NonWorkingDayRule } from '../../domain/deadline';
import { recommendationWorkflowId } from '../../domain/ids';
import type { NotificationPolicy, Offset } from '../../domain/policy';
import { currentCycle, defaultLeadTime, isMonthEnd, recurrenceProblem, recurringDeadlineOf, type Recurrence, type RecurrenceFrequency } from '../../domain/cycles';
import { loadCalendar } from '../../store/calendar';
import { loadDefaultPolicy } from '../../store/policy';
import type { Recommendation, SourceKind } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { recommendationWorkflow } from '../../workflows';
import { withdrawRecommendationUpdate } from '../../workflows/definitions';
import { isEndedRunError } from '../../temporal/errors';
import { pluralRu } from '../../domain/russian';
import { describeSource } from '../../notifications/render';
import { badRequest, conflict, fromTemporal, notFound, unknownReference } from '../errors';

const WITHDRAWN_CANNOT_ISSUE = 'Рекомендация отозвана: выдать её нельзя';

export const DEFAULT_ISSUER = 'ОГБУ «Региональный центр развития образования»';

export interface NewRecommendation {
  source: { kind: SourceKind; number: string; date: string; title?: string; issuer?: string };
  text: string;
  /** Addressees one by one, and/or every member of the named groups (taken as they are now). */
  assignees?: string[];
  groups?: string[];
  /** The deadline, or the first cycle's for a recurring one. */
  deadline: { due: string; recurrence?: NewRecurrence };
  policy?: NotificationPolicy;
}

export interface NewRecurrence {
  frequency: RecurrenceFrequency;
  every?: string;
  /** The default is one period: the next cycle appears as the previous one falls due. */
  leadTime?: Offset;
}

/**
 * What a curator is asked to confirm before issuing: the source document is registered already
 * (entered or imported before), or a deadline has passed (the addressees would at once be told
 * the deadline expired).
 */
export type IssueWarning =
  | { code: 'source_registered'; message: string; recommendations: Array<{ id: string; text: string; status: Recommendation['status'] }> }
  | { code: 'deadline_passed'; message: string; due: string };

/**
 * The warnings as one string: a form carries it back as the curator's confirmation, which holds
 * only while the warnings are these (a changed document or deadline asks again).
 */
export function warningsKey(warnings: IssueWarning[]): string {
  return warnings.map((w) => (w.code === 'source_registered' ? `source:${w.recommendations.map((r) => r.id).join('+')}` : `due:${w.due}`)).join('|');
}

export interface RecommendationServiceDeps {
  repos: Repositories;
  temporal: Client;
  taskQueue: string;
  timezone: string;
  /** Where a date deadline on a non-working day moves (DEADLINE_NON_WORKING_DAY). */
  nonWorkingDay: NonWorkingDayRule;
  batchSize: number;
}

export function createRecommendationService({ repos, temporal, taskQueue, timezone, nonWorkingDay, batchSize }: RecommendationServiceDeps) {
  const service = {
    /**
     * Everything create checks, without writing: the deadline by the calendar, the recurrence, the
     * addressees (groups expanded as they are now). Throws a 400 AppError naming the field.
     */
    async prepare(input: NewRecommendation) {
      const deadline = resolveDeadline(input.deadline.due, { timezone, calendar: await loadCalendar(repos), rule: nonWorkingDay });
      if (!deadline) {
        const far = Number(input.deadline.due.slice(0, 4)) > LAST_DEADLINE_YEAR;
        throw badRequest('Неверный срок', [{ path: 'body.deadline.due', message: far ? `срок не позже ${LAST_DEADLINE_YEAR} года` : 'нет такой даты' }]);
      }
      const recurrence = input.deadline.recurrence && recurrenceOf(input.deadline.recurrence, input.deadline.due, deadline.nominal);
      const assignees = await resolveAddressees(repos, input.assignees ?? [], input.groups ?? []);
      return { deadline, recurrence, assignees };
    },

    /**
     * What the curator should confirm before these are issued from this document: its
     * recommendations already there (but those in `except`, and withdrawn ones), and each deadline
     * (as typed, YYYY-MM-DD or an instant) already past. One deadline is flagged once.
     */
    async warnings(source: NewRecommendation['source'], deadlines: Array<{ due: string; recurring?: boolean }>, except: string[] = []): Promise<IssueWarning[]> {
      const warnings: IssueWarning[] = [];
      const issuer = source.issuer ?? DEFAULT_ISSUER;
      const same = (await repos.recommendations.all()).filter(
        (r) =>
          r.status !== 'withdrawn' &&
          !except.includes(r._id) &&
          r.source.kind === source.kind &&
          r.source.issuer === issuer &&
          r.source.number === source.number &&
          r.source.date === source.date,
      );
      if (same.length > 0) {
        warnings.push({
          code: 'source_registered',
          message: `Документ «${describeSource(source)}» уже зарегистрирован: по нему ${pluralRu(same.length, ['выдана', 'выданы', 'выдано'])} ${same.length} ${pluralRu(same.length, ['рекомендация', 'рекомендации', 'рекомендаций'])}`,
          recommendations: same.map((r) => ({ id: r._id, text: r.text, status: r.status })),
        });
      }
      const calendar = await loadCalendar(repos);
      const now = Date.now();
      const flagged = new Set<string>();
      // A recurring deadline in the past starts at the cycle under way: nothing is overdue at once.
      for (const { due } of deadlines.filter((d) => !d.recurring)) {
        const resolved = resolveDeadline(due, { timezone, calendar, rule: nonWorkingDay });
        if (!resolved || resolved.due.getTime() > now || flagged.has(due)) continue;
        flagged.add(due);
        const shown = /^\d{4}-\d{2}-\d{2}$/.test(due) ? due.split('-').reverse().join('.') : resolved.due.toISOString();
        warnings.push({ code: 'deadline_passed', due, message: `Срок ${shown} уже прошёл: адресаты сразу получат письмо «Срок истёк»` });
      }
      return warnings;
    },

    async create(input: NewRecommendation, actor: ActorRef, options: { id?: string } = {}): Promise<Recommendation> {
      const { deadline, recurrence, assignees } = await service.prepare(input);
      const source = await repos.sources.findOrCreate({
        _id: randomUUID(),
        kind: input.source.kind,
        issuer: input.source.issuer ?? DEFAULT_ISSUER,
        number: input.source.number,
        date: input.source.date,
        title: input.source.title ?? '',
      });
      return repos.recommendations.create({
        _id: options.id ?? randomBytes(9).toString('base64url'),
        source: { id: source._id, kind: source.kind, issuer: source.issuer, number: source.number, date: source.date, title: source.title },
        text: input.text,
        assignees,
        deadline: { due: deadline.due, input: input.deadline.due, nominal: deadline.nominal, moved: deadline.moved },
        ...(recurrence ? { recurrence } : {}),
        policy: input.policy ?? (await loadDefaultPolicy(repos)),
        status: 'draft',
        createdBy: actor,
      });
    },

    /**
     * Idempotent: issuing again, or twice at once, returns the same assignments. The workflow id
     * orders it against a withdrawal: whichever starts the recommendation's workflow first wins, and
     * an issue that finds a withdrawal's run there answers 409 and leaves no row open.
     */
    async issue(id: string, actor: ActorRef) {
      const existing = await repos.recommendations.get(id);
      if (!existing) throw notFound('Рекомендация не найдена');
      if (existing.status === 'withdrawn') throw conflict(WITHDRAWN_CANNOT_ISSUE);
      await repos.recommendations.markIssued(id, actor);
      // Read again: a withdrawal may have come between the two.
      const rec = (await repos.recommendations.get(id))!;
      if (rec.status !== 'issued') throw conflict(WITHDRAWN_CANNOT_ISSUE);
      const recurring = recurringDeadlineOf(rec);
      const cycle = recurring && currentCycle(recurring, rec.issuedAt ?? new Date(), { calendar: await loadCalendar(repos), timezone, rule: nonWorkingDay });
      const rows = cycle
        ? await repos.assignments.ensureIssued(rec, rec.assignees, cycle)
        : await repos.assignments.ensureIssued(rec, rec.assignees);
      const firstRun = cycle
        ? { recurring: { cycle: cycle.cycle, due: cycle.due.toISOString(), appearsAt: cycle.appearsAt.toISOString(), period: cycle.period } }
        : {};
      const workflowId = recommendationWorkflowId(id);
      try {
        await temporal.workflow.start(recommendationWorkflow, {
          workflowId,
          taskQueue,
          args: [{ recommendationId: id, issuedBy: rec.issuedBy ?? actor, batchSize, ...firstRun }],
          memo: { purpose: 'issue' },
          // Never a second issuing run, and none after a withdrawal's run.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        if (await withdrawalStartedFirst(workflowId)) {
          // Its batches may have looked for open rows before ours were written: close them here.
          await withdrawUnstartedRows(rows.map((row) => row._id));
          throw conflict(WITHDRAWN_CANNOT_ISSUE);
        }
      }
      return {
        rec,
        assignments: rows.map((row) => ({ id: row._id, organization: row.organization, cycle: row.cycle, period: row.period ?? null, due: row.due })),
      };
    },

    /**
     * Withdraws a draft or an issued recommendation through its workflow: the running one (still
     * issuing, or a recurring one between cycles), else a short run of its own started with the
     * update. A draft's run only marks it withdrawn; an issue that comes later finds the run and
     * refuses.
     */
    async withdraw(id: string, reason: string, actor: ActorRef): Promise<Recommendation> {
      const rec = await repos.recommendations.get(id);
      if (!rec) throw notFound('Рекомендация не найдена');
      if (rec.status === 'withdrawn') throw conflict('Рекомендация уже отозвана');
      const withdrawal = () =>
        temporal.workflow.executeUpdateWithStart(withdrawRecommendationUpdate, {
          args: [{ actor, reason }],
          startWorkflowOperation: new WithStartWorkflowOperation(recommendationWorkflow, {
            workflowId: recommendationWorkflowId(id),
            taskQueue,
            args: [{ recommendationId: id, issuedBy: actor, batchSize, withdrawOnly: true }],
            memo: { purpose: 'withdraw' },
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          }),
        });
      try {
        try {
          await withdrawal();
        } catch (error) {
          // The running one ended (its issuing done) as the update reached it: the next try starts
          // a run of its own.
          if (!isEndedRunError(error)) throw error;
          await withdrawal();
        }
      } catch (error) {
        throw fromTemporal(error, 'Рекомендация уже закрыта');
      }
      return (await repos.recommendations.get(id))!;
    },
  };

  /** Whether the recommendation's workflow was started by a withdrawal rather than an issue. */
  async function withdrawalStartedFirst(workflowId: string): Promise<boolean> {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return description.memo?.purpose === 'withdraw';
  }

  /** Rows written for assignments whose workflows never started (version 0): withdrawn in the read model only. */
  async function withdrawUnstartedRows(ids: string[]): Promise<void> {
    for (const id of ids) await repos.assignments.withdrawUnstarted(id);
  }
  return service;
}

function recurrenceOf(input: NewRecurrence, dueInput: string, nominal: string): Recurrence {
  const leadTime = input.leadTime ?? defaultLeadTime(input.frequency, input.every);
  const problem = recurrenceProblem({ ...input, leadTime }, dueInput);
  if (problem) throw badRequest(`Неверное повторение срока: ${problem}`, [{ path: 'body.deadline.recurrence', message: problem }]);
  return {
    frequency: input.frequency,
    ...(input.every ? { every: input.every } : {}),
    monthEnd: input.frequency !== 'interval' && isMonthEnd(nominal),
    leadTime,
  };
}

/**
 * The addressees named one by one plus the members of the named groups, each once, in the order
 * given. Unknown codes and empty groups are errors: a recommendation must reach whom it names.
 */
export async function resolveAddressees(repos: Repositories, codes: string[], groups: string[]): Promise<string[]> {
  const unknownGroups: string[] = [];
  const members: string[] = [];
  for (const group of [...new Set(groups)]) {
    const orgs = await repos.organizations.list({ group });
    if (orgs.length === 0 && !(await repos.groups.get(group))) unknownGroups.push(group);
    else if (orgs.length === 0)
      throw unknownReference(`В группе «${group}» нет ни одной организации`, [{ path: 'body.groups', message: 'пустая группа', codes: [group] }]);
    members.push(...orgs.map((o) => o._id));
  }
  if (unknownGroups.length > 0)
    throw unknownReference(`Неизвестные группы: ${unknownGroups.join(', ')}`, [{ path: 'body.groups', message: 'нет таких групп', codes: unknownGroups }]);
  const named = [...new Set(codes)];
  const known = await repos.organizations.existing(named);
  const unknown = named.filter((code) => !known.has(code));
  if (unknown.length > 0)
    throw unknownReference(`Неизвестные организации: ${unknown.join(', ')}`, [{ path: 'body.assignees', message: 'нет таких организаций', codes: unknown }]);
  const assignees = [...new Set([...named, ...members])];
  if (assignees.length === 0) throw badRequest('Нужен хотя бы один адресат', [{ path: 'body.assignees', message: 'укажите организации или группу' }]);
  return assignees;
}

export type RecommendationService = ReturnType<typeof createRecommendationService>;
