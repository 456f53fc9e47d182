/**
 * Recommendations: create drafts, issue them (one assignment workflow per addressee, started by the
 * recommendation's own workflow), withdraw them. Used by the routes and by the demo data.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { ActorRef } from '../../domain/assignment';
import { resolveDeadline, type NonWorkingDayRule } from '../../domain/deadline';
import { recommendationWorkflowId } from '../../domain/ids';
import type { NotificationPolicy } from '../../domain/policy';
import { loadCalendar } from '../../store/calendar';
import { loadDefaultPolicy } from '../../store/policy';
import type { Recommendation, SourceKind } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { recommendationWorkflow } from '../../workflows';
import { withdrawRecommendationUpdate } from '../../workflows/definitions';
import { badRequest, conflict, fromTemporal, notFound } from '../errors';

export const DEFAULT_ISSUER = 'ОГБУ «Региональный центр развития образования»';

export interface NewRecommendation {
  source: { kind: SourceKind; number: string; date: string; title?: string; issuer?: string };
  text: string;
  assignees: string[];
  deadline: { due: string };
  policy?: NotificationPolicy;
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
  return {
    async create(input: NewRecommendation, actor: ActorRef, options: { id?: string } = {}): Promise<Recommendation> {
      const deadline = resolveDeadline(input.deadline.due, { timezone, calendar: await loadCalendar(repos), rule: nonWorkingDay });
      if (!deadline) throw badRequest('Неверный срок', [{ path: 'body.deadline.due', message: 'нет такой даты' }]);
      const assignees = [...new Set(input.assignees)];
      const known = await repos.organizations.existing(assignees);
      const unknown = assignees.filter((code) => !known.has(code));
      if (unknown.length > 0)
        throw badRequest(`Неизвестные организации: ${unknown.join(', ')}`, [{ path: 'body.assignees', message: 'нет таких организаций', codes: unknown }]);
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
        policy: input.policy ?? (await loadDefaultPolicy(repos)),
        status: 'draft',
        createdBy: actor,
      });
    },

    /** Idempotent: issuing again, or twice at once, returns the same assignments. */
    async issue(id: string, actor: ActorRef) {
      const existing = await repos.recommendations.get(id);
      if (!existing) throw notFound('Рекомендация не найдена');
      if (existing.status === 'withdrawn') throw conflict('Рекомендация отозвана: выдать её нельзя');
      const rec = (await repos.recommendations.markIssued(id, actor))!;
      const rows = await repos.assignments.ensureIssued(rec, rec.assignees);
      try {
        await temporal.workflow.start(recommendationWorkflow, {
          workflowId: recommendationWorkflowId(id),
          taskQueue,
          args: [{ recommendationId: id, issuedBy: rec.issuedBy ?? actor, batchSize }],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      return { rec, assignments: rows.map((row) => ({ id: row._id, organization: row.organization, due: row.due })) };
    },

    async withdraw(id: string, reason: string, actor: ActorRef): Promise<Recommendation> {
      const rec = await repos.recommendations.get(id);
      if (!rec) throw notFound('Рекомендация не найдена');
      if (rec.status === 'withdrawn') throw conflict('Рекомендация уже отозвана');
      if (rec.status === 'draft') {
        // Nothing runs for a draft: withdrawing it is a registry change only.
        await repos.recommendations.markWithdrawn(id, { reason, by: actor }, new Date());
        await repos.audit.record({ actor, action: 'withdrawn', entity: { kind: 'recommendation', id }, details: { reason } });
      } else {
        try {
          await temporal.workflow
            .getHandle(recommendationWorkflowId(id))
            .executeUpdate(withdrawRecommendationUpdate, { args: [{ actor, reason }] });
        } catch (error) {
          throw fromTemporal(error, 'Рекомендация уже закрыта');
        }
      }
      return (await repos.recommendations.get(id))!;
    },
  };
}

export type RecommendationService = ReturnType<typeof createRecommendationService>;
