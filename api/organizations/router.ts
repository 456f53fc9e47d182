import { Router } from 'express';
import type { ActorRef } from '../../domain/assignment';
import { z } from 'zod';
import { ORG_CODE_PATTERN } from '../../domain/ids';
import { ROLES } from '../../domain/roles';
import { ORGANIZATION_KINDS, type Organization } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { actorOf, actorRef, requireRole } from '../auth/middleware';
import { conflict, notFound } from '../errors';
import type { ApiDocs } from '../openapi';
import { validate, text } from '../validate';

const emails = z.array(z.string().trim().toLowerCase().email({ pattern: z.regexes.html5Email, message: 'неверный адрес электронной почты' })).max(20).default([]);

export const OrganizationBody = z.strictObject({
  code: z.string().regex(ORG_CODE_PATTERN, 'код: латинские строчные буквы, цифры и дефис, от 2 до 64 знаков'),
  name: text({ min: 2, max: 300 }),
  kind: z.enum(ORGANIZATION_KINDS),
  groups: z.array(text({ min: 1, max: 64 })).max(20).default([]),
  contacts: z.strictObject({ coordinator: emails, head: emails }).default({ coordinator: [], head: [] }),
});
// Without the create defaults: a field left out of a PATCH stays as it is (a default would wipe
// the groups of an organisation whose contacts alone were changed).
const OrganizationPatch = z
  .strictObject({
    name: OrganizationBody.shape.name,
    kind: OrganizationBody.shape.kind,
    groups: z.array(text({ min: 1, max: 64 })).max(20),
    contacts: z.strictObject({ coordinator: emails, head: emails }),
  })
  .partial();
const CodeParams = z.object({ code: z.string().regex(ORG_CODE_PATTERN) });
const ListQuery = z.strictObject({ kind: z.enum(ORGANIZATION_KINDS).optional(), group: z.string().optional() });

export const OrganizationOut = OrganizationBody.meta({ id: 'Organization' });

export function toOrganizationOut(org: Organization) {
  return { code: org._id, name: org.name, kind: org.kind, groups: org.groups, contacts: org.contacts };
}

/** Adds an organisation (409 when the code is taken); audited. Used by the API and the admin page. */
export async function createOrganization(repos: Repositories, body: z.infer<typeof OrganizationBody>, actor: ActorRef): Promise<Organization> {
  const { code, ...rest } = body;
  const org: Organization = { _id: code, ...rest };
  if (!(await repos.organizations.create(org))) throw conflict(`Организация с кодом «${code}» уже есть`);
  await repos.audit.record({ actor, action: 'created', entity: { kind: 'organization', id: code }, details: { name: org.name } });
  return org;
}

/** Changes the fields given (404 for an unknown code); audited. Used by the API and the admin page. */
export async function updateOrganization(repos: Repositories, code: string, patch: z.infer<typeof OrganizationPatch>, actor: ActorRef): Promise<Organization> {
  const org = await repos.organizations.update(code, patch);
  if (!org) throw notFound('Организация не найдена');
  await repos.audit.record({ actor, action: 'updated', entity: { kind: 'organization', id: org._id }, details: { fields: Object.keys(patch) } });
  return org;
}

export function createOrganizationsRouter({ repos, docs }: { repos: Repositories; docs: ApiDocs }) {
  const router = Router();

  docs.route('post', '/api/organizations', {
    summary: 'Создать организацию-адресата',
    tag: 'Организации',
    roles: ['admin'],
    body: OrganizationBody,
    response: { status: 201, description: 'Создана', schema: OrganizationOut },
    errors: [409],
  });
  router.post('/', requireRole('admin'), validate({ body: OrganizationBody }), async (req, res) => {
    res.status(201).json(toOrganizationOut(await createOrganization(repos, req.body, actorRef(actorOf(req)))));
  });

  docs.route('get', '/api/organizations', {
    summary: 'Список организаций (исполнитель видит только свою)',
    tag: 'Организации',
    roles: ROLES,
    query: ListQuery,
    response: { description: 'Организации', schema: z.object({ items: z.array(OrganizationOut), total: z.number() }) },
  });
  router.get('/', validate({ query: ListQuery }), async (req, res) => {
    const actor = actorOf(req);
    const codes = actor.role === 'executor' ? [actor.organization ?? ''] : undefined;
    const items = (await repos.organizations.list({ ...req.query, codes })).map(toOrganizationOut);
    res.json({ items, total: items.length });
  });

  docs.route('get', '/api/organizations/{code}', {
    summary: 'Организация',
    tag: 'Организации',
    roles: ROLES,
    params: CodeParams,
    response: { description: 'Организация', schema: OrganizationOut },
    errors: [404],
  });
  router.get('/:code', validate({ params: CodeParams }), async (req, res) => {
    const actor = actorOf(req);
    const org = await repos.organizations.get(req.params.code);
    if (!org || (actor.role === 'executor' && actor.organization !== org._id)) throw notFound('Организация не найдена');
    res.json(toOrganizationOut(org));
  });

  docs.route('patch', '/api/organizations/{code}', {
    summary: 'Изменить организацию (название, группы, контакты)',
    tag: 'Организации',
    roles: ['admin'],
    params: CodeParams,
    body: OrganizationPatch,
    response: { description: 'Изменена', schema: OrganizationOut },
    errors: [404],
  });
  router.patch('/:code', requireRole('admin'), validate({ params: CodeParams, body: OrganizationPatch }), async (req, res) => {
    res.json(toOrganizationOut(await updateOrganization(repos, req.params.code, req.body, actorRef(actorOf(req)))));
  });
  return router;
}
