import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { ORG_CODE_PATTERN } from '../../domain/ids';
import { READ_ALL_ROLES, ROLES } from '../../domain/roles';
import type { Repositories } from '../../store/repositories';
import type { User } from '../../store/models';
import { hashPassword } from '../auth/passwords';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import { UserOut } from '../auth/router';
import { badRequest, conflict } from '../errors';
import type { ApiDocs } from '../openapi';
import { validate } from '../validate';

export const UserBody = z
  .strictObject({
    email: z.string().trim().toLowerCase().email('неверный адрес электронной почты'),
    name: z.string().trim().min(2).max(200),
    password: z.string().min(8, 'пароль не короче 8 знаков').max(200),
    role: z.enum(ROLES),
    organization: z.string().regex(ORG_CODE_PATTERN).optional(),
  })
  .refine((u) => u.role !== 'executor' || u.organization, {
    message: 'исполнитель должен принадлежать организации',
    path: ['organization'],
  });
const ListQuery = z.strictObject({ organization: z.string().regex(ORG_CODE_PATTERN).optional(), role: z.enum(ROLES).optional() });

export function toUserOut(user: Pick<User, '_id' | 'email' | 'name' | 'role' | 'organization'>) {
  return { id: user._id, email: user.email, name: user.name, role: user.role, organization: user.organization ?? null };
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
    const { organization } = req.body;
    if (organization && !(await repos.organizations.get(organization)))
      throw badRequest(`Организации с кодом «${organization}» нет`, [{ path: 'body.organization', message: 'нет такой организации' }]);
    const user = await createUser(repos, req.body);
    if (!user) throw conflict(`Пользователь ${req.body.email} уже есть`);
    await repos.audit.record({
      actor: actorRef(actorOf(req)),
      action: 'created',
      entity: { kind: 'user', id: user._id },
      details: { email: user.email, role: user.role, organization: user.organization },
    });
    res.status(201).json(toUserOut(user));
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
