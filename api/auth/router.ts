import { loginLimiter } from './login-limit';
import { Router } from 'express';
import { z } from 'zod';
import type { Repositories } from '../../store/repositories';
import { ROLES } from '../../domain/roles';
import type { ApiDocs } from '../openapi';
import { AppError, unauthorized } from '../errors';
import { validate } from '../validate';
import { DECOY_HASH, verifyPassword } from './passwords';
import type { TokenService } from './tokens';
import { actorOf, authenticate } from './middleware';

export const LoginBody = z.strictObject({ email: z.string().trim().toLowerCase().email({ pattern: z.regexes.html5Email }), password: z.string().min(1).max(200) });

export const UserOut = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    organization: z.string().nullable(),
    active: z.boolean().optional(),
  })
  .meta({ id: 'User' });

export function createAuthRouter({
  repos,
  tokens,
  docs,
  rate,
}: {
  repos: Repositories;
  tokens: TokenService;
  docs: ApiDocs;
  rate: { limit: number; windowSeconds: number };
}) {
  const router = Router();
  const limiter = loginLimiter({
    attempts: repos.loginAttempts,
    rate,
    handler: (_req, _res, next) => next(new AppError(429, 'too_many_requests', 'Слишком много попыток входа. Подождите и попробуйте снова')),
  });

  docs.route('post', '/api/auth/login', {
    summary: 'Вход: выдаёт токен',
    tag: 'Вход',
    body: LoginBody,
    response: { description: 'Токен и пользователь', schema: z.object({ token: z.string(), user: UserOut }) },
    errors: [401, 429],
  });
  router.post('/login', limiter, validate({ body: LoginBody }), async (req, res) => {
    const { email, password } = req.body;
    const user = await repos.users.findByEmail(email);
    const valid = await verifyPassword(password, user?.passwordHash ?? DECOY_HASH);
    if (!user || !valid || !user.active) throw unauthorized('Неверный адрес электронной почты или пароль');
    res.json({
      token: tokens.sign(user._id),
      user: { id: user._id, email: user.email, name: user.name, role: user.role, organization: user.organization ?? null },
    });
  });

  docs.route('get', '/api/auth/me', {
    summary: 'Текущий пользователь',
    tag: 'Вход',
    roles: ROLES,
    response: { description: 'Пользователь', schema: UserOut },
  });
  router.get('/me', authenticate({ tokens, repos }), (req, res) => {
    const actor = actorOf(req);
    res.json({ id: actor.id, email: actor.email, name: actor.name, role: actor.role, organization: actor.organization ?? null });
  });
  return router;
}
