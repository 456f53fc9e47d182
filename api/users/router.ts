import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { ORG_CODE_PATTERN } from '../../domain/ids';
import { READ_ALL_ROLES, ROLES } from '../../domain/roles';
import type { Repositories } from '../../store/repositories';
import type { ActorRef } from '../../domain/assignment';
import type { User } from '../../store/models';
import { hashPassword } from '../auth/passwords';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import { UserOut } from '../auth/router';
import { conflict, notFound, unknownReference } from '../errors';
import type { ApiDocs } from '../openapi';
import { validate, text } from '../validate';

const NewUser = {
  email: z.string().trim().toLowerCase().email({ pattern: z.regexes.html5Email, message: 'неверный адрес электронной почты' }),
  name: text({ min: 2, max: 200 }),
  password: z.string().min(8, 'пароль не короче 8 знаков').max(200),
  organization: z.string().regex(ORG_CODE_PATTERN).optional(),
};
/** An executor belongs to an organisation; staff may name one or not. */
export const UserBody = z.discriminatedUnion('role', [
  z.strictObject({
    ...NewUser,
    role: z.literal('executor'),
    organization: z.string({ error: (issue) => (issue.input === undefined ? 'исполнитель должен принадлежать организации' : undefined) }).regex(ORG_CODE_PATTERN),
  }),
  z.strictObject({ ...NewUser, role: z.enum(ROLES.filter((r) => r !== 'executor') as ['admin', 'curator', 'observer']) }),
]);
export const UserPatch = z.strictObject({
  name: text({ min: 2, max: 200 }).optional(),
  role: z.enum(ROLES).optional(),
  organization: z.string().regex(ORG_CODE_PATTERN).nullable().optional(),
  active: z.boolean().optional(),
  password: z.string().min(8, 'пароль не короче 8 знаков').max(200).optional(),
});
const IdParams = z.object({ id: z.string().uuid('неверный идентификатор') });
const ListQuery = z.strictObject({ organization: z.string().regex(ORG_CODE_PATTERN).optional(), role: z.enum(ROLES).optional() });

export function toUserOut(user: Pick<User, '_id' | 'email' | 'name' | 'role' | 'organization'> & { active?: boolean }) {
  return { id: user._id, email: user.email, name: user.name, role: user.role, organization: user.organization ?? null, active: user.active ?? true };
}

/**
 * Changes a user: name, role, organisation, active, password. The result must still make sense (an
 * executor belongs to an organisation), and an administrator cannot lock themselves out. A user
 * made inactive is out at once: every request and page reads the user afresh.
 */
export async function updateUser(repos: Repositories, id: string, patch: z.infer<typeof UserPatch>, by: ActorRef): Promise<Omit<User, 'passwordHash'>> {
  const user = await repos.users.get(id);
  if (!user) throw notFound('Пользователь не найден');
  const role = patch.role ?? user.role;
  const organization = patch.organization === undefined ? user.organization : (patch.organization ?? undefined);
  if (role === 'executor' && !organization)
    throw conflict('Исполнитель должен принадлежать организации', [{ path: 'body.organization', message: 'исполнитель должен принадлежать организации' }]);
  if (patch.organization && !(await repos.organizations.get(patch.organization)))
    throw unknownReference(`Организации с кодом «${patch.organization}» нет`, [{ path: 'body.organization', message: 'нет такой организации' }]);
  if (id === by.id && (role !== 'admin' || patch.active === false)) throw conflict('Нельзя снять права администратора или отключить самого себя');
  const { password, ...rest } = patch;
  const updated = await repos.users.update(id, { ...rest, ...(password ? { passwordHash: await hashPassword(password) } : {}) });
  await repos.audit.record({ actor: by, action: 'updated', entity: { kind: 'user', id }, details: { fields: Object.keys(patch), role, active: updated?.active } });
  if (!updated) throw notFound('Пользователь не найден');
  return updated;
}

/** Creates a user; used by the admin route, the first-start admin and the demo data. */
export async function createUser(
  repos: Repositories,
  input: { email: string; name: string; password: string; role: User['role']; organization?: string },
): Promise<User | undefined> {
  const user: User = {
    _id: randomUUID(),
    email: input.email.trim().toLowerCase(),
    name: input.name,
    passwordHash: await hashPassword(input.password),
    role: input.role,
    organization: input.organization,
    active: true,
  };
  return (await repos.users.create(user)) ? user : undefined;
}

/** An administrator adds a user: the organisation must exist, the address be free (409); audited. */
export async function addUser(repos: Repositories, input: z.infer<typeof UserBody>, actor: ActorRef): Promise<User> {
  const { organization } = input;
  if (organization && !(await repos.organizations.get(organization)))
    throw unknownReference(`Организации с кодом «${organization}» нет`, [{ path: 'body.organization', message: 'нет такой организации' }]);
  const user = await createUser(repos, input);
  if (!user) throw conflict(`Пользователь ${input.email} уже есть`);
  await repos.audit.record({ actor, action: 'created', entity: { kind: 'user', id: user._id }, details: { email: user.email, role: user.role, organization: user.organization } });
  return user;
}

export function createUsersRouter({ repos, docs }: { repos: Repositories; docs: ApiDocs }) {
  const router = Router();

  docs.route('post', '/api/users', {
    summary: 'Создать пользователя',
    tag: 'Пользователи',
    roles: ['admin'],
    body: UserBody,
    response: { status: 201, description: 'Создан', schema: UserOut },
    errors: [409],
  });
  router.post('/', requireRole('admin'), validate({ body: UserBody }), async (req, res) => {
    const user = await addUser(repos, req.body, actorRef(actorOf(req)));
    res.status(201).json(toUserOut(user));
  });

  docs.route('patch', '/api/users/{id}', {
    summary: 'Изменить пользователя: имя, роль, организацию, доступ, пароль',
    tag: 'Пользователи',
    roles: ['admin'],
    params: IdParams,
    body: UserPatch,
    response: { description: 'Изменён', schema: UserOut },
    errors: [404, 409],
  });
  router.patch('/:id', requireRole('admin'), validate({ params: IdParams, body: UserPatch }), async (req, res) => {
    res.json(toUserOut(await updateUser(repos, req.params.id, req.body, actorRef(actorOf(req)))));
  });

  docs.route('get', '/api/users', {
    summary: 'Список пользователей',
    tag: 'Пользователи',
    roles: READ_ALL_ROLES,
    query: ListQuery,
    response: { description: 'Пользователи', schema: z.object({ items: z.array(UserOut), total: z.number() }) },
  });
  router.get('/', requireRole(...READ_ALL_ROLES), validate({ query: ListQuery }), async (req, res) => {
    const items = (await repos.users.list(req.query)).map(toUserOut);
    res.json({ items, total: items.length });
  });
  return router;
}
