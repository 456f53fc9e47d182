/**
 * Every message the workflows accept, defined once: the workflows register handlers for them and
 * the API sends them. Inputs are single objects so fields can be added without breaking histories.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ActorRef, AssignmentEventType, AssignmentState } from '../domain/assignment';
import type { Audience, PlannedStep } from '../domain/policy';
import type { AssignmentTemplateName } from '../notifications/render';

export interface AssignmentWorkflowInput {
  assignmentId: string;
  recommendationId: string;
  organization: string;
  cycle: number;
  /** ISO date-time of the deadline. */
  due: string;
  issuedBy: ActorRef;
  /** Carried over by continue-as-new; absent on the first run. */
  state?: AssignmentState;
  /**
   * Reminders and escalation for the current deadline: planned by the issuing batch for all its
   * runs, or carried over by continue-as-new. Absent, the run plans them in a local activity.
   */
  chase?: ChaseState;
  /**
   * The issuing activity sends the 'issued' email itself, beside its batch of starts (a run of its
   * own per email cost every assignment a workflow task and an activity task). Absent, as in runs
   * from before or those an action started, the run sends it; the outbox key makes it one email.
   */
  issuerNotifies?: boolean;
}

/** Which email each event sends, and to whom (resolved from stored contacts by the activity). */
export const EVENT_EMAILS: Partial<Record<AssignmentEventType, { template: AssignmentTemplateName; to: Audience[] }>> = {
  issued: { template: 'assignment-issued', to: ['coordinator'] },
  overdue: { template: 'assignment-overdue', to: ['coordinator'] },
  submitted: { template: 'evidence-submitted', to: ['curator'] },
  accepted: { template: 'evidence-accepted', to: ['coordinator'] },
  returned: { template: 'evidence-returned', to: ['coordinator'] },
  'extension-requested': { template: 'extension-requested', to: ['curator'] },
  'extension-approved': { template: 'extension-decided', to: ['coordinator'] },
  'extension-rejected': { template: 'extension-decided', to: ['coordinator'] },
  withdrawn: { template: 'recommendation-withdrawn', to: ['coordinator'] },
};

/** One outbox key per event occurrence: the version is unique to it, so a retry or a replay reuses it. */
export const eventEmailKey = (assignmentId: string, event: AssignmentEventType, version: number) => `${assignmentId}:${event}:v${version}`;

export interface ChaseState {
  /** The deadline the steps were planned for; a new deadline gets a new plan. */
  due: string;
  issuedAt: string;
  steps: PlannedStep[];
  /** Ids of steps handled: sent, or dropped because they no longer applied. */
  done: string[];
}

export interface SubmitEvidenceInput {
  actor: ActorRef;
  evidenceId: string;
  comment: string;
  files: number;
}
export interface ReviewInput {
  actor: ActorRef;
  decision: 'accept' | 'return';
  comment?: string;
}
export interface RequestExtensionInput {
  actor: ActorRef;
  until: string;
  reason: string;
}
export interface DecideExtensionInput {
  actor: ActorRef;
  approve: boolean;
  comment?: string;
}
export interface WithdrawInput {
  actor: ActorRef;
  reason: string;
}

export const submitEvidenceUpdate = defineUpdate<AssignmentState, [SubmitEvidenceInput]>('submitEvidence');
export const reviewUpdate = defineUpdate<AssignmentState, [ReviewInput]>('review');
export const requestExtensionUpdate = defineUpdate<AssignmentState, [RequestExtensionInput]>('requestExtension');
export const decideExtensionUpdate = defineUpdate<AssignmentState, [DecideExtensionInput]>('decideExtension');
export const withdrawAssignmentUpdate = defineUpdate<AssignmentState, [WithdrawInput]>('withdrawAssignment');
export const assignmentStateQuery = defineQuery<AssignmentState>('assignmentState');

export interface RecommendationWorkflowInput {
  recommendationId: string;
  issuedBy: ActorRef;
  /** How many assignment workflows one activity starts; keeps this workflow's history short. */
  batchSize?: number;
  /**
   * A recurring recommendation: the cycle this run issues. Each run issues one cycle, waits for the
   * next one to appear and continues as new with it, so the history stays short however many run.
   */
  recurring?: CycleToIssue;
  /**
   * A run started by a withdrawal after the issuing run had ended (update-with-start): it issues
   * nothing, withdraws what is still open and ends.
   */
  withdrawOnly?: boolean;
}

export interface CycleToIssue {
  cycle: number;
  /** ISO instant of the cycle's deadline. */
  due: string;
  /** ISO instant the cycle appears (its deadline less the lead time). */
  appearsAt: string;
  period: string;
}

export interface RecommendationProgress {
  status: 'issuing' | 'issued' | 'withdrawing' | 'withdrawn';
  /** Assignments started (by this run, for a recurring recommendation: of its cycle). */
  started: number;
  withdrawn: number;
  /** A recurring recommendation's cycle being issued or under way, and the next one once planned. */
  cycle?: CycleToIssue;
  nextCycle?: CycleToIssue;
}

export const withdrawRecommendationUpdate = defineUpdate<RecommendationProgress, [WithdrawInput]>(
  'withdrawRecommendation',
);
export const recommendationProgressQuery = defineQuery<RecommendationProgress>('recommendationProgress');
