/**
 * Projection activities: write what a workflow decided to the read model, the evidence metadata
 * and the audit trail. Every write is keyed so a retry or a replay writes nothing twice.
 */
import type { ActorRef, AssignmentEventType, AssignmentState } from '../../domain/assignment';
import type { Repositories } from '../../store/repositories';

export interface AssignmentProjection {
  assignmentId: string;
  recommendationId: string;
  organization: string;
  cycle: number;
  state: AssignmentState;
  event: AssignmentEventType;
  actor: ActorRef;
  at: string;
  details: Record<string, unknown>;
}

export interface RecommendationProjection {
  recommendationId: string;
  status: 'withdrawn';
  actor: ActorRef;
  reason: string;
  at: string;
}

export function createProjectionActivities({ repos }: { repos: Repositories }) {
  return {
    async projectAssignment(p: AssignmentProjection): Promise<void> {
      const at = new Date(p.at);
      const evidenceId = typeof p.details.evidenceId === 'string' ? p.details.evidenceId : undefined;
      if (p.event === 'submitted' && evidenceId) await repos.evidence.markRecorded(evidenceId);
      if ((p.event === 'accepted' || p.event === 'returned') && evidenceId) {
        const comment = typeof p.details.comment === 'string' ? p.details.comment : undefined;
        await repos.evidence.setReview(evidenceId, {
          decision: p.event === 'accepted' ? 'accept' : 'return',
          comment,
          by: p.actor,
          at,
        });
      }
      await repos.audit.append({
        _id: `assignment:${p.assignmentId}:${String(p.state.version).padStart(6, '0')}`,
        at,
        actor: p.actor,
        action: p.event,
        entity: { kind: 'assignment', id: p.assignmentId },
        details: { ...p.details, status: p.state.status, due: p.state.due, overdue: p.state.overdue },
      });
      // The read model last: once a client sees the new state, its history entry already exists.
      await repos.assignments.project(
        p.assignmentId,
        { recommendationId: p.recommendationId, organization: p.organization, cycle: p.cycle },
        p.state,
      );
    },

    async projectRecommendation(p: RecommendationProjection): Promise<void> {
      const at = new Date(p.at);
      await repos.audit.append({
        _id: `recommendation:${p.recommendationId}:${p.status}`,
        at,
        actor: p.actor,
        action: p.status,
        entity: { kind: 'recommendation', id: p.recommendationId },
        details: { reason: p.reason },
      });
      await repos.recommendations.markWithdrawn(p.recommendationId, { reason: p.reason, by: p.actor }, at);
    },
  };
}
