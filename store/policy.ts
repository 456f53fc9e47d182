/**
 * The default notification policy: what an administrator set, else the built-in one. A new
 * recommendation copies it, so changing the default never changes what was already issued.
 */
import { DEFAULT_POLICY, type NotificationPolicy } from '../domain/policy';
import type { Repositories } from './repositories';

export const DEFAULT_POLICY_SETTING = 'notification-policy';

export async function loadDefaultPolicy(repos: Repositories): Promise<NotificationPolicy> {
  return (await repos.settings.get<NotificationPolicy>(DEFAULT_POLICY_SETTING)) ?? DEFAULT_POLICY;
}
