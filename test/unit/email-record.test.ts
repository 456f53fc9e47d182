/**
 * A send the relay accepted is recorded even while the store is out: the delivery waits and writes
 * again instead of failing, so the email is never taken for unsent and sent a second time.
 */
import { mongo } from 'mongoose';
import type { Transporter } from 'nodemailer';
import type { EmailRenderer } from '../../notifications/render';
import type { OutboxEmail } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { createEmailActivities } from '../../workers/activities/email';

function setup(markSentFailures: Error[]) {
  const entry = { _id: 'a.org.1:issued:v1', status: 'pending', to: ['coordinator@org.test'], subject: 'Новое поручение', html: '<p>x</p>', text: 'x', attempts: 0, retryAt: null } as unknown as OutboxEmail;
  const sent: string[] = [];
  const recorded: string[] = [];
  const failed: string[] = [];
  const outbox = {
    get: async () => entry,
    markSent: async (_key: string, messageId: string) => {
      const failure = markSentFailures.shift();
      if (failure) throw failure;
      recorded.push(messageId);
    },
    markFailed: async (_key: string, error: string) => void failed.push(error),
  };
  const transport = {
    sendMail: async (message: { messageId: string }) => {
      sent.push(message.messageId);
      return { messageId: message.messageId };
    },
  } as unknown as Transporter;
  const activities = createEmailActivities({
    repos: { outbox } as unknown as Repositories,
    renderer: {} as EmailRenderer,
    transport,
    from: 'kontrol@test',
    baseUrl: 'http://127.0.0.1',
    timezone: 'Asia/Tomsk',
  });
  return { activities, sent, recorded, failed };
}

it('waits out a store outage after the relay accepted, and records the send once', async () => {
  const down = () => new mongo.MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017');
  const { activities, sent, recorded, failed } = setup([down(), down()]);
  await expect(activities.deliver('a.org.1:issued:v1')).resolves.toBe('sent');
  expect(sent).toHaveLength(1);
  expect(recorded).toEqual(sent);
  expect(failed).toEqual([]);
});

it('does not wait on an error that is not an outage', async () => {
  const { activities, sent, recorded } = setup([new TypeError('a bug')]);
  await expect(activities.deliver('a.org.1:issued:v1')).rejects.toThrow('a bug');
  expect(sent).toHaveLength(1);
  expect(recorded).toEqual([]);
});
