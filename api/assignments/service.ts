/**
 * Assignment actions go to the assignment's workflow as Temporal Updates: the workflow decides,
 * projects the change, and only then does the update (and the HTTP request) return.
 */
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { isClosed, type AssignmentState } from '../../domain/assignment';
import { assignmentWorkflowId, parseAssignmentId } from '../../domain/ids';
import type { Actor } from '../../domain/roles';
import type { AssignmentView, Recommendation, Organization, Evidence, AuditEntry } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { fromTemporal, notFound } from '../errors';

export function createAssignmentService({ repos, temporal }: { repos: Repositories; temporal: Client }) {
  return {
    /** The assignment if the actor may see it; otherwise 404, whether it exists or not. */
    async visible(id: string, actor: Actor): Promise<AssignmentView> {
      const view = parseAssignmentId(id) ? await repos.assignments.get(id) : null;
      if (!view || (actor.role === 'executor' && view.organization !== actor.organization)) throw notFound('Поручение не найдено');
      return view;
    },

    async update<Input>(
      view: AssignmentView,
      update: UpdateDefinition<AssignmentState, [Input]>,
      input: Input,
      updateId?: string,
    ): Promise<AssignmentView> {
      const handle = temporal.workflow.getHandle(assignmentWorkflowId(parseAssignmentId(view._id)!));
      try {
        await handle.executeUpdate(update, { args: [input], updateId });
      } catch (error) {
        throw fromTemporal(
          error,
          isClosed(view) ? 'Поручение закрыто и не принимает изменений' : 'Поручение ещё запускается: повторите через несколько секунд',
        );
      }
      return (await repos.assignments.get(view._id))!;
    },
  };
}

export type AssignmentService = ReturnType<typeof createAssignmentService>;

export function toAssignmentOut(
  view: AssignmentView,
  rec?: Pick<Recommendation, 'text' | 'source' | 'status'> | null,
  org?: Pick<Organization, 'name'> | null,
) {
  return {
    id: view._id,
    recommendationId: view.recommendationId,
    organization: view.organization,
    organizationName: org?.name ?? null,
    cycle: view.cycle,
    period: view.period ?? null,
    status: view.status,
    overdue: view.overdue,
    due: view.due.toISOString(),
    originalDue: view.originalDue.toISOString(),
    acceptedLate: view.acceptedLate,
    extension: view.extension
      ? { until: view.extension.until, reason: view.extension.reason, requestedAt: view.extension.requestedAt, requestedBy: view.extension.requestedBy.email }
      : null,
    submissions: view.submissions,
    returns: view.returns,
    lastSubmittedAt: view.lastSubmittedAt?.toISOString() ?? null,
    updatedAt: (view.updatedAt ?? view.createdAt ?? new Date(0)).toISOString(),
    recommendation: rec
      ? {
          text: rec.text,
          status: rec.status,
          source: { kind: rec.source.kind, number: rec.source.number, date: rec.source.date, issuer: rec.source.issuer, title: rec.source.title },
        }
      : null,
  };
}

export function toHistoryOut(entry: AuditEntry) {
  return { at: entry.at.toISOString(), type: entry.action, actor: entry.actor.email, role: entry.actor.role, ...entry.details };
}

export function toEvidenceOut(doc: Evidence, assignmentId: string) {
  return {
    id: doc._id,
    comment: doc.comment,
    submittedAt: doc.submittedAt.toISOString(),
    submittedBy: doc.submittedBy.email,
    files: doc.files.map((f) => ({
      id: f.id,
      name: f.name,
      size: f.size,
      type: f.type,
      sha256: f.sha256,
      url: `/api/assignments/${assignmentId}/files/${f.id}`,
    })),
    review: doc.review
      ? { decision: doc.review.decision, comment: doc.review.comment ?? null, by: doc.review.by.email, at: doc.review.at.toISOString() }
      : null,
  };
}
