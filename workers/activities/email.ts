/**
 * Email activities: render an assignment email from stored data, record it in the outbox under
 * its idempotency key, and send it over SMTP. A retry, a replay or a second worker finds the key
 * already sent and sends nothing; an SMTP failure is recorded and thrown, so Temporal retries it
 * with backoff and an outage delays mail without losing it. Recipients come only from stored
 * contacts, never from workflow input.
 */
import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { AssignmentEmailData, EmailRenderer, TemplateName } from '../../notifications/render';
import type { Repositories } from '../../store/repositories';

export type Audience = 'coordinator' | 'head' | 'curator' | 'observers';

export interface NotifyAssignmentInput {
  /** Idempotency key: assignment, event and step, e.g. `a1.tomsk.1:returned:v4`. */
  key: string;
  template: TemplateName;
  assignmentId: string;
  to: Audience[];
  details?: { comment?: string; reason?: string; until?: string; approved?: boolean };
}

export type DeliveryResult = 'sent' | 'already-sent' | 'no-recipients';

export function createEmailActivities({
  repos,
  renderer,
  transport,
  from,
  baseUrl,
}: {
  repos: Repositories;
  renderer: EmailRenderer;
  transport: Transporter;
  from: string;
  baseUrl: string;
}) {
  async function recipients(audience: Audience[], organization: string, curatorEmail?: string): Promise<string[]> {
    const org = await repos.organizations.get(organization);
    const out = new Set<string>();
    for (const who of audience) {
      if (who === 'coordinator') org?.contacts.coordinator.forEach((e) => out.add(e));
      if (who === 'head') org?.contacts.head.forEach((e) => out.add(e));
      if (who === 'curator' && curatorEmail) out.add(curatorEmail);
      if (who === 'observers') (await repos.users.list({ role: 'observer' })).filter((u) => u.active).forEach((u) => out.add(u.email));
    }
    return [...out].sort();
  }

  /** Sends a recorded email unless it was sent already. */
  async function deliver(key: string): Promise<DeliveryResult> {
    const entry = await repos.outbox.get(key);
    if (!entry) throw new Error(`no outbox entry ${key}`);
    if (entry.status === 'sent') return 'already-sent';
    if (!entry.to?.length) {
      await repos.outbox.markFailed(key, 'no recipients in the stored contacts');
      return 'no-recipients';
    }
    try {
      const info = await transport.sendMail({
        from,
        to: entry.to,
        subject: entry.subject,
        html: entry.html,
        text: entry.text,
        // Stable per key, so a receiving server or a person can tell a rare resend is the same mail.
        messageId: `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@kontrol>`,
      });
      await repos.outbox.markSent(key, info.messageId);
      return 'sent';
    } catch (error) {
      await repos.outbox.markFailed(key, error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  return {
    async notifyAssignment(input: NotifyAssignmentInput): Promise<DeliveryResult> {
      const existing = await repos.outbox.get(input.key);
      if (existing?.status === 'sent') return 'already-sent';
      if (!existing) {
        const view = await repos.assignments.get(input.assignmentId);
        if (!view) throw new Error(`assignment ${input.assignmentId} is missing from the read model`);
        const [rec, org] = await Promise.all([repos.recommendations.get(view.recommendationId), repos.organizations.get(view.organization)]);
        if (!rec) throw new Error(`recommendation ${view.recommendationId} is missing from the registry`);
        const data: AssignmentEmailData = {
          organization: org?.name ?? view.organization,
          source: rec.source,
          text: rec.text,
          due: view.due.toISOString(),
          link: `${baseUrl}/assignments/${encodeURIComponent(view._id)}`,
          comment: input.details?.comment ?? '',
          reason: input.details?.reason ?? '',
          until: input.details?.until ?? '',
          approved: input.details?.approved ?? false,
        };
        const rendered = renderer.render(input.template, data);
        await repos.outbox.record({
          _id: input.key,
          template: input.template,
          to: await recipients(input.to, view.organization, rec.createdBy?.email),
          ...rendered,
          context: { assignmentId: view._id, recommendationId: rec._id, event: input.template },
        });
      }
      return deliver(input.key);
    },
    deliver,
  };
}
