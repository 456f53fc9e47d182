/**
 * One issued recommendation: starts its assignment workflows in batches (an activity per batch, so
 * the history stays a few dozen events even for thousands of addressees) and withdraws them all.
 */
import { ApplicationFailure, allHandlersFinished, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { createIssuingActivities } from '../workers/activities/issuing';
import type { createProjectionActivities } from '../workers/activities/projection';
import { FailureType } from '../domain/errors';
import {
  type RecommendationProgress,
  type RecommendationWorkflowInput,
  type WithdrawInput,
  recommendationProgressQuery,
  withdrawRecommendationUpdate,
} from './definitions';

const DEFAULT_BATCH_SIZE = 100;

const { startAssignmentBatch, withdrawAssignmentBatch } = proxyActivities<ReturnType<typeof createIssuingActivities>>({
  startToCloseTimeout: '10 minutes',
  // Short: a worker that dies mid-batch is noticed within seconds, and the batch is idempotent.
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { projectRecommendation } = proxyActivities<ReturnType<typeof createProjectionActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function recommendationWorkflow(input: RecommendationWorkflowInput): Promise<RecommendationProgress> {
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const progress: RecommendationProgress = { status: 'issuing', started: 0, withdrawn: 0 };
  let withdrawal: WithdrawInput | undefined;

  setHandler(
    withdrawRecommendationUpdate,
    async (request) => {
      withdrawal = request;
      progress.status = 'withdrawing';
      await projectRecommendation({
        recommendationId: input.recommendationId,
        status: 'withdrawn',
        actor: request.actor,
        reason: request.reason,
        at: new Date().toISOString(),
      });
      return { ...progress };
    },
    {
      validator: ({ reason }) => {
        if (withdrawal)
          throw ApplicationFailure.create({ type: FailureType.AlreadyClosed, message: 'Рекомендация уже отозвана', nonRetryable: true });
        if (!reason.trim())
          throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: 'Укажите причину отзыва', nonRetryable: true });
      },
    },
  );
  setHandler(recommendationProgressQuery, () => ({ ...progress }));

  for (let done = false; !done && !withdrawal; ) {
    const batch = await startAssignmentBatch({
      recommendationId: input.recommendationId,
      issuedBy: input.issuedBy,
      offset: progress.started,
      limit: batchSize,
    });
    progress.started += batch.count;
    done = batch.done;
  }
  if (!withdrawal) progress.status = 'issued';

  await condition(() => withdrawal !== undefined);
  const { actor, reason } = withdrawal!;
  for (let done = false, offset = 0; !done; ) {
    const batch = await withdrawAssignmentBatch({ recommendationId: input.recommendationId, actor, reason, offset, limit: batchSize });
    offset += batch.count;
    progress.withdrawn += batch.withdrawn;
    done = batch.done;
  }
  progress.status = 'withdrawn';
  await condition(allHandlersFinished);
  return progress;
}
