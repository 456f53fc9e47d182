/**
 * Assignment actions go to the assignment's workflow as Temporal Updates: the workflow decides,
 * projects the change, and only then does the update (and the HTTP request) return.
 */
import { type Client, WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { SYSTEM_ACTOR, isClosed, type AssignmentState } from '../../domain/assignment';
import { assignmentWorkflowId, parseAssignmentId } from '../../domain/ids';
import type { Actor } from '../../domain/roles';
import type { AssignmentView, Recommendation, Organization, Evidence, AuditEntry } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { randomUUID } from 'node:crypto';
import type { ActorRef } from '../../domain/assignment';
import { formatDateRu, isoDateRu, parseDue, resolveDeadline, type NonWorkingDayRule } from '../../domain/deadline';
import type { FileStore } from '../../store/files';
import { loadCalendar } from '../../store/calendar';
import type { EvidenceFile } from '../../store/models';
import { assignmentWorkflow } from '../../workflows';
import { type AssignmentWorkflowInput, requestExtensionUpdate, submitEvidenceUpdate } from '../../workflows/definitions';
import { badRequest, conflict, fromTemporal, notFound } from '../errors';
import { withoutNul } from '../validate';

const CLOSED = 'Поручение закрыто и не принимает изменений';

const SAFE_MIME = /^[a-z0-9][a-z0-9.+-]*\/[a-z0-9][a-z0-9.+-]*$/i;

/** An upload as multer leaves it: a temporary file and what the browser said about it. */
export interface Upload {
  path: string;
  originalname: string;
  mimetype: string;
}

export function createAssignmentService({ repos, temporal, taskQueue }: { repos: Repositories; temporal: Client; taskQueue: string }) {
  const service = {
    /** The assignment if the actor may see it; otherwise 404, whether it exists or not. */
    async visible(id: string, actor: Actor): Promise<AssignmentView> {
      const view = parseAssignmentId(id) ? await repos.assignments.get(id) : null;
      if (!view || (actor.role === 'executor' && view.organization !== actor.organization)) throw notFound('Поручение не найдено');
      return view;
    },

    /**
     * Sends an action to the assignment's workflow, starting the workflow with it if the issuing
     * has not reached this addressee yet (update-with-start): an action right after issuing
     * succeeds at once instead of answering "still starting". A closed workflow is never started
     * again (REJECT_DUPLICATE), and nothing is started for a withdrawn row or recommendation.
     */
    async update<Input>(
      view: AssignmentView,
      update: UpdateDefinition<AssignmentState, [Input]>,
      input: Input,
      updateId?: string,
    ): Promise<AssignmentView> {
      if (isClosed(view)) throw conflict(CLOSED);
      const rec = await repos.recommendations.get(view.recommendationId);
      if (!rec || rec.status !== 'issued') throw conflict(CLOSED);
      const key = parseAssignmentId(view._id)!;
      const start: AssignmentWorkflowInput = {
        assignmentId: view._id,
        recommendationId: view.recommendationId,
        organization: view.organization,
        cycle: view.cycle,
        // The row of an assignment whose workflow has not started still holds the issued deadline.
        due: view.originalDue.toISOString(),
        issuedBy: rec.issuedBy ?? SYSTEM_ACTOR,
      };
      try {
        await temporal.workflow.executeUpdateWithStart(update, {
          args: [input],
          updateId,
          startWorkflowOperation: new WithStartWorkflowOperation(assignmentWorkflow, {
            workflowId: assignmentWorkflowId(key),
            taskQueue,
            args: [start],
            workflowIdConflictPolicy: 'USE_EXISTING',
            // The same as the issuing activity's: an assignment that has ended is never begun again.
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          }),
        });
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw conflict(CLOSED);
        throw fromTemporal(error, CLOSED);
      }
      return (await repos.assignments.get(view._id))!;
    },

    /**
     * Stores the files (hashed, flushed), records the evidence as pending, then sends it to the
     * workflow: metadata is written before the workflow hears of it, so nothing the workflow records
     * can be missing. Refused by the workflow: the evidence is marked refused and the error thrown.
     * The caller removes what is left of the uploads.
     */
    async submitEvidence(view: AssignmentView, actor: ActorRef, comment: string, uploaded: Upload[], files: FileStore) {
      const stored: EvidenceFile[] = [];
      for (const file of uploaded) {
        const { sha256, size } = await files.adopt(file.path);
        stored.push({
          id: randomUUID(),
          // Both surfaces upload through here: a NUL in a name or a comment is kept as U+FFFD (see withoutNul).
          name: withoutNul(file.originalname).slice(0, 255),
          size,
          type: SAFE_MIME.test(file.mimetype) ? file.mimetype : 'application/octet-stream',
          sha256,
        });
      }
      const evidenceId = randomUUID();
      const text = withoutNul(comment).trim();
      await repos.evidence.createPending({
        _id: evidenceId,
        assignmentId: view._id,
        organization: view.organization,
        comment: text,
        files: stored,
        submittedBy: actor,
        submittedAt: new Date(),
      });
      try {
        const next = await service.update(view, submitEvidenceUpdate, { actor, evidenceId, comment: text, files: stored.length }, `submit:${evidenceId}`);
        return { view: next, evidenceId };
      } catch (error) {
        await repos.evidence.markRefused(evidenceId);
        throw error;
      }
    },

    /** A new deadline asked for: a date follows the same working-day rule as the first deadline. */
    async requestExtension(
      view: AssignmentView,
      actor: ActorRef,
      request: { until: string; reason: string },
      { timezone, rule }: { timezone: string; rule: NonWorkingDayRule },
    ) {
      const resolved = resolveDeadline(request.until, { timezone, calendar: await loadCalendar(repos), rule });
      if (!resolved) throw badRequest('Неверная дата нового срока', [{ path: 'body.until', message: 'нет такой даты' }]);
      const until = resolved.due;
      const asTyped = parseDue(resolved.nominal, timezone);
      if (resolved.moved && asTyped && asTyped > view.due && until.getTime() <= view.due.getTime()) {
        // Without this the workflow would refuse with "not later than the current deadline", though the date typed is later.
        const day = formatDateRu(until, timezone);
        throw badRequest(`${isoDateRu(resolved.nominal)} — нерабочий день: срок переносится на ${day}, а это не позже текущего срока. Выберите рабочий день позже`, [
          { path: 'body.until', message: 'нерабочий день' },
        ]);
      }
      return service.update(view, requestExtensionUpdate, { actor, until: until.toISOString(), reason: request.reason });
    },
  };
  return service;
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
