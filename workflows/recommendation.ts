/**
 * One issued recommendation: starts its assignment workflows in batches (an activity per batch, so
 * the history stays a few dozen events even for thousands of addressees) and withdraws them all.
 *
 * A recurring recommendation issues one cycle per run: it starts the cycle's assignments, plans the
 * next cycle, sleeps until that cycle appears and continues as new with it. Withdrawing stops the
 * cycles to come and withdraws the open assignments of every cycle. The recurring path is chosen by
 * the input (`recurring`), which runs started before it existed never carry, so their histories
 * replay unchanged without a patch.
 *
 * A run ends once it has issued (the last cycle, for a recurring one): nothing stays open for
 * years waiting for a withdrawal that seldom comes. A later withdrawal starts a short run of its
 * own through update-with-start (`withdrawOnly`), which withdraws what is still open and ends.
 * Runs started before `recommendation-run-ends-v1` keep waiting, as their histories say they did.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { createIssuingActivities } from '../workers/activities/issuing';
import type { createPlanningActivities } from '../workers/activities/planning';
import type { createProjectionActivities } from '../workers/activities/projection';
import { FailureType } from '../domain/errors';
import {
  type RecommendationProgress,
  type CycleToIssue,
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
const { planCycle } = proxyLocalActivities<ReturnType<typeof createPlanningActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { projectRecommendation } = proxyActivities<ReturnType<typeof createProjectionActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function recommendationWorkflow(input: RecommendationWorkflowInput): Promise<RecommendationProgress> {
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const progress: RecommendationProgress = { status: 'issuing', started: 0, withdrawn: 0, ...(input.recurring ? { cycle: input.recurring } : {}) };
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

  for (let done = Boolean(input.withdrawOnly); !done && !withdrawal; ) {
    const batch = await startAssignmentBatch({
      recommendationId: input.recommendationId,
      issuedBy: input.issuedBy,
      offset: progress.started,
      limit: batchSize,
      ...(input.recurring ? { cycle: input.recurring } : {}),
    });
    progress.started += batch.count;
    done = batch.done;
  }
  if (!withdrawal) progress.status = 'issued';

  if (input.recurring && !input.withdrawOnly) {
    const next = await awaitNextCycle(input.recommendationId, input.recurring, progress, () => withdrawal !== undefined);
    if (next) {
      await condition(allHandlersFinished);
      // A withdrawal's handler sets `withdrawal` as it starts, so one that came meanwhile is seen here.
      if (!withdrawal) return continueAsNew<typeof recommendationWorkflow>({ ...input, recurring: next });
    }
  }

  // The issuing is done: the run ends here, unless a withdrawal came meanwhile (its update is then
  // finished below, in this run) or it is a withdrawal's own run.
  if (!withdrawal && !input.withdrawOnly && patched('recommendation-run-ends-v1')) {
    await condition(allHandlersFinished);
    if (!withdrawal) return progress;
  }
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

/**
 * Plans the cycle after `current` and sleeps until it appears, planning again on waking (an
 * administrator may have changed the calendar meanwhile). Undefined when withdrawn first, or when
 * the recommendation no longer recurs.
 */
async function awaitNextCycle(
  recommendationId: string,
  current: CycleToIssue,
  progress: RecommendationProgress,
  withdrawn: () => boolean,
): Promise<CycleToIssue | undefined> {
  while (!withdrawn()) {
    const next = await planCycle({ recommendationId, cycle: current.cycle + 1 });
    if (!next) return undefined;
    progress.nextCycle = next;
    const wait = Date.parse(next.appearsAt) - Date.now();
    if (wait <= 0) return next;
    if (await condition(withdrawn, wait)) return undefined;
  }
  return undefined;
}
