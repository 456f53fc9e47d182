/**
 * The delivery log (the outbox) for the administrator: every email recorded, its state and last
 * error, and a resend. This process has no SMTP transport: a resend is a small workflow a worker runs,
 * waited on for a few seconds so the usual answer is the entry as it is after the send.
 */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { type Client, WorkflowFailedError, isGrpcCancelledError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ActorRef } from '../../domain/assignment';
import { FailureType } from '../../domain/errors';
import { ASSIGNMENT_ID_PATTERN } from '../../domain/ids';
import type { OutboxEmail, OutboxStatus } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { resendEmailWorkflow } from '../../workflows';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import { notFound } from '../errors';
import type { ApiDocs } from '../openapi';
import { pagination, validate } from '../validate';

const STATUSES = ['pending', 'sent', 'failed'] as const satisfies readonly OutboxStatus[];
/** How long a resend request waits for the worker before answering 202. */
export const RESEND_WAIT_MS = 10_000;

const KeyParams = z.object({ key: z.string().min(1).max(300) });
const ListQuery = z.strictObject({
  status: z.enum(STATUSES).optional(),
  template: z.string().regex(/^[a-z0-9-]{1,64}$/, 'неверное имя шаблона').optional(),
  assignmentId: z.string().regex(ASSIGNMENT_ID_PATTERN, 'неверный идентификатор поручения').optional(),
  ...pagination,
});

const OutboxSummaryOut = z
  .object({
    key: z.string(),
    template: z.string(),
    to: z.array(z.string()),
    subject: z.string(),
    status: z.enum(STATUSES),
    attempts: z.number(),
    lastError: z.string().nullable(),
    sentAt: z.string().nullable(),
    resends: z.number(),
    lastResentAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    context: z.object({ assignmentId: z.string().nullable(), recommendationId: z.string().nullable(), event: z.string().nullable() }),
  })
  .meta({ id: 'OutboxEmailSummary' });
const OutboxEntryOut = OutboxSummaryOut.extend({ messageId: z.string().nullable(), html: z.string(), text: z.string() }).meta({
  id: 'OutboxEmail',
});
const QueuedOut = z.object({ status: z.literal('queued'), workflowId: z.string() });

const iso = (date: Date | undefined) => date?.toISOString() ?? null;

export function toOutboxSummary(entry: Omit<OutboxEmail, 'html' | 'text'>) {
  return {
    key: entry._id,
    template: entry.template,
    to: entry.to ?? [],
    subject: entry.subject,
    status: entry.status,
    attempts: entry.attempts,
    lastError: entry.lastError ?? null,
    sentAt: iso(entry.sentAt),
    resends: entry.resends ?? 0,
    lastResentAt: iso(entry.lastResentAt),
    createdAt: (entry.createdAt ?? new Date(0)).toISOString(),
    updatedAt: (entry.updatedAt ?? entry.createdAt ?? new Date(0)).toISOString(),
    context: {
      assignmentId: entry.context?.assignmentId ?? null,
      recommendationId: entry.context?.recommendationId ?? null,
      event: entry.context?.event ?? null,
    },
  };
}

export function toOutboxEntry(entry: OutboxEmail) {
  return { ...toOutboxSummary(entry), messageId: entry.messageId ?? null, html: entry.html, text: entry.text };
}

/**
 * Starts sending an email again, through a small workflow on the worker (the API has no SMTP
 * transport); audited. Used by the API, which waits a little for the result, and the admin page.
 */
export async function startResend(
  { repos, temporal, taskQueue }: { repos: Repositories; temporal: Client; taskQueue: string },
  entry: Pick<OutboxEmail, '_id' | 'status' | 'template' | 'to'>,
  actor: ActorRef,
) {
  const workflowId = `email-resend/${entry._id}/${randomUUID()}`;
  const handle = await temporal.workflow.start(resendEmailWorkflow, {
    workflowId,
    taskQueue,
    args: [{ key: entry._id, requestedBy: actor, again: entry.status === 'sent' }],
  });
  await repos.audit.record({
    actor,
    action: 'resend-requested',
    entity: { kind: 'email', id: entry._id },
    details: { workflowId, status: entry.status, template: entry.template, to: entry.to },
  });
  return { handle, workflowId };
}

export function createOutboxRouter({ repos, temporal, taskQueue, docs }: { repos: Repositories; temporal: Client; taskQueue: string; docs: ApiDocs }) {
  const router = Router();
  // Every route here is the administrator's.
  router.use(requireRole('admin'));

  const entryOr404 = async (key: string) => {
    const entry = await repos.outbox.get(key);
    if (!entry) throw notFound('Письмо не найдено в журнале');
    return entry;
  };

  docs.route('get', '/api/outbox', {
    summary: 'Журнал писем: сначала новые, без текста писем',
    tag: 'Письма',
    roles: ['admin'],
    query: ListQuery,
    response: { description: 'Письма', schema: z.object({ items: z.array(OutboxSummaryOut), total: z.number() }) },
  });
  router.get('/', validate({ query: ListQuery }), async (req, res) => {
    const { limit, offset, ...filter } = req.query;
    const { items, total } = await repos.outbox.list(filter, { limit, offset });
    res.json({ items: items.map(toOutboxSummary), total });
  });

  docs.route('get', '/api/outbox/{key}', {
    summary: 'Письмо из журнала целиком, с HTML и текстом',
    tag: 'Письма',
    roles: ['admin'],
    params: KeyParams,
    response: { description: 'Письмо', schema: OutboxEntryOut },
    errors: [404],
  });
  router.get('/:key', validate({ params: KeyParams }), async (req, res) => {
    res.json(toOutboxEntry(await entryOr404(req.params.key)));
  });

  docs.route('post', '/api/outbox/{key}/resend', {
    summary:
      'Отправить письмо ещё раз (и отправленное тоже). 200 — письмо в журнале после отправки; 202 — SMTP пока не принимает, отправка продолжится сама',
    tag: 'Письма',
    roles: ['admin'],
    params: KeyParams,
    response: { description: 'Письмо после отправки', schema: OutboxEntryOut },
    otherResponses: [{ status: 202, description: 'Отправка ещё повторяется: SMTP пока не принимает', schema: QueuedOut }],
    errors: [404],
  });
  router.post('/:key/resend', validate({ params: KeyParams }), async (req, res) => {
    const entry = await entryOr404(req.params.key);
    const { handle, workflowId } = await startResend({ repos, temporal, taskQueue }, entry, actorRef(actorOf(req)));

    try {
      await temporal.withAbortSignal(AbortSignal.timeout(RESEND_WAIT_MS), () => handle.result());
    } catch (error) {
      // Still retrying (SMTP refuses or is down): the workflow goes on, and the log will show it.
      if (isGrpcCancelledError(error)) return void res.status(202).json({ status: 'queued', workflowId });
      if (error instanceof WorkflowFailedError && isNotFound(error)) throw notFound('Письмо не найдено в журнале');
      throw error;
    }
    res.json(toOutboxEntry(await entryOr404(entry._id)));
  });

  return router;
}

function isNotFound(error: WorkflowFailedError): boolean {
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure && cause.type === FailureType.NotFound) return true;
  }
  return false;
}
