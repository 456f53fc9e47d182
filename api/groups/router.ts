/**
 * Organisation groups: the addressees a letter names at once («руководителям органов местного
 * самоуправления, осуществляющих управление в сфере образования» = every municipal education
 * authority). Staff and observers read them; an administrator keeps them: name, the phrases letters
 * use for the group (the protocol import recognises them), and the members.
 */
import { Router } from 'express';
import type { ActorRef } from '../../domain/assignment';
import { z } from 'zod';
import { ORG_CODE_PATTERN } from '../../domain/ids';
import { READ_ALL_ROLES } from '../../domain/roles';
import type { Organization, OrganizationGroup } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import { notFound, unknownReference } from '../errors';
import type { ApiDocs } from '../openapi';
import { validate, text } from '../validate';

const CodeParams = z.object({ code: z.string().regex(ORG_CODE_PATTERN, 'код: латинские строчные буквы, цифры и дефис, от 2 до 64 знаков') });
export const GroupBody = z.strictObject({
  name: text({ min: 2, max: 300, message: 'название слишком короткое' }),
  phrases: z
    .array(text({ min: 3, max: 300, message: 'фраза слишком короткая' }))
    .max(20)
    .default([])
    .meta({ description: 'Как письма называют группу адресатов («органов местного самоуправления, осуществляющих управление в сфере образования»)' }),
  members: z
    .array(z.string().regex(ORG_CODE_PATTERN, 'неверный код организации'))
    .max(5000)
    .optional()
    .meta({ description: 'Коды организаций группы; если не указано, состав не меняется' }),
});

const Member = z.object({ code: z.string(), name: z.string() });
const GroupOut = z
  .object({
    code: z.string(),
    name: z.string(),
    phrases: z.array(z.string()),
    members: z.array(Member),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'OrganizationGroup' });

function toOut(code: string, group: OrganizationGroup | null, members: Organization[]) {
  return {
    code,
    // A code organisations carry with no group record yet: shown under its code.
    name: group?.name ?? code,
    phrases: group?.phrases ?? [],
    members: members.map((o) => ({ code: o._id, name: o.name })),
    updatedAt: group?.updatedAt?.toISOString() ?? null,
  };
}

/**
 * Creates or replaces a group's name and phrases and, when `members` is given, makes exactly those
 * organisations its members (a 400 for unknown ones); audited. Used by the API and the admin page.
 */
export async function saveGroup(repos: Repositories, code: string, input: { name: string; phrases: string[]; members?: string[] }, actor: ActorRef) {
  const { name, phrases, members } = input;
  if (members) {
    const known = await repos.organizations.existing(members);
    const unknown = members.filter((m) => !known.has(m));
    if (unknown.length > 0)
      throw unknownReference(`Неизвестные организации: ${unknown.join(', ')}`, [{ path: 'body.members', message: 'нет таких организаций', codes: unknown }]);
  }
  const group = await repos.groups.put(code, { name, phrases: [...new Set(phrases)] }, actor);
  if (members) await repos.groups.setMembers(code, [...new Set(members)]);
  await repos.audit.record({ actor, action: 'group-saved', entity: { kind: 'group', id: code }, details: { name, phrases: phrases.length, members: members?.length ?? null } });
  return group;
}

export function createGroupsRouter({ repos, docs }: { repos: Repositories; docs: ApiDocs }) {
  const router = Router();

  docs.route('get', '/api/groups', {
    summary: 'Группы организаций-адресатов',
    tag: 'Организации',
    roles: READ_ALL_ROLES,
    response: { description: 'Группы с составом', schema: z.object({ items: z.array(GroupOut), total: z.number() }) },
  });
  router.get('/', requireRole(...READ_ALL_ROLES), async (_req, res) => {
    const [groups, orgs] = await Promise.all([repos.groups.list(), repos.organizations.list()]);
    const codes = [...new Set([...groups.map((g) => g._id), ...orgs.flatMap((o) => o.groups)])].sort();
    const items = codes.map((code) => toOut(code, groups.find((g) => g._id === code) ?? null, orgs.filter((o) => o.groups.includes(code))));
    res.json({ items, total: items.length });
  });

  docs.route('get', '/api/groups/{code}', {
    summary: 'Группа организаций',
    tag: 'Организации',
    roles: READ_ALL_ROLES,
    params: CodeParams,
    response: { description: 'Группа с составом', schema: GroupOut },
    errors: [404],
  });
  router.get('/:code', requireRole(...READ_ALL_ROLES), validate({ params: CodeParams }), async (req, res) => {
    const [group, members] = await Promise.all([repos.groups.get(req.params.code), repos.organizations.list({ group: req.params.code })]);
    if (!group && members.length === 0) throw notFound('Группа не найдена');
    res.json(toOut(req.params.code, group, members));
  });

  docs.route('put', '/api/groups/{code}', {
    summary: 'Создать или изменить группу: название, фразы писем, состав',
    tag: 'Организации',
    roles: ['admin'],
    params: CodeParams,
    body: GroupBody,
    response: { description: 'Группа, как сохранена', schema: GroupOut },
    errors: [409],
  });
  router.put('/:code', requireRole('admin'), validate({ params: CodeParams, body: GroupBody }), async (req, res) => {
    const { code } = req.params;
    const group = await saveGroup(repos, code, req.body, actorRef(actorOf(req)));
    res.json(toOut(code, group, await repos.organizations.list({ group: code })));
  });

  docs.route('delete', '/api/groups/{code}', {
    summary: 'Удалить группу (выданные рекомендации сохраняют своих адресатов)',
    tag: 'Организации',
    roles: ['admin'],
    params: CodeParams,
    response: { status: 204, description: 'Удалена' },
    errors: [404],
  });
  router.delete('/:code', requireRole('admin'), validate({ params: CodeParams }), async (req, res) => {
    const { code } = req.params;
    const members = await repos.organizations.list({ group: code });
    const existed = await repos.groups.remove(code);
    if (!existed && members.length === 0) throw notFound('Группа не найдена');
    await repos.audit.record({ actor: actorRef(actorOf(req)), action: 'group-removed', entity: { kind: 'group', id: code }, details: { members: members.length } });
    res.status(204).end();
  });

  return router;
}
