/**
 * The default notification policy: staff read it, an administrator changes it. A change applies
 * to recommendations created afterwards; each recommendation keeps the policy it was created with.
 */
import { Router } from 'express';
import type { ActorRef } from '../../domain/assignment';
import type { NotificationPolicy } from '../../domain/policy';
import { READ_ALL_ROLES } from '../../domain/roles';
import { DEFAULT_POLICY_SETTING, loadDefaultPolicy } from '../../store/policy';
import type { Repositories } from '../../store/repositories';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import type { ApiDocs } from '../openapi';
import { validate } from '../validate';
import { PolicyOut, PolicySchema } from './schema';

const PATH = '/api/settings/notification-policy';

/** The default policy for recommendations created from now on; audited. Used by the API and the admin page. */
export async function saveDefaultPolicy(repos: Repositories, policy: NotificationPolicy, actor: ActorRef): Promise<void> {
  await repos.settings.put(DEFAULT_POLICY_SETTING, policy, actor);
  await repos.audit.record({ actor, action: 'policy-changed', entity: { kind: 'settings', id: DEFAULT_POLICY_SETTING }, details: { policy } });
}

export function createPolicyRouter({ repos, docs }: { repos: Repositories; docs: ApiDocs }) {
  const router = Router();

  docs.route('get', PATH, {
    summary: 'Политика уведомлений по умолчанию (напоминания и эскалация)',
    tag: 'Уведомления',
    roles: READ_ALL_ROLES,
    response: { description: 'Политика', schema: PolicyOut },
  });
  router.get('/notification-policy', requireRole(...READ_ALL_ROLES), async (_req, res) => {
    res.json(await loadDefaultPolicy(repos));
  });

  docs.route('put', PATH, {
    summary: 'Изменить политику по умолчанию (для рекомендаций, созданных после изменения)',
    tag: 'Уведомления',
    roles: ['admin'],
    body: PolicySchema,
    response: { description: 'Сохранена', schema: PolicyOut },
  });
  router.put('/notification-policy', requireRole('admin'), validate({ body: PolicySchema }), async (req, res) => {
    await saveDefaultPolicy(repos, req.body, actorRef(actorOf(req)));
    res.json(await loadDefaultPolicy(repos));
  });

  return router;
}
