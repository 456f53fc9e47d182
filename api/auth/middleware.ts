/**
 * Authentication (Bearer token → the user as stored now, so a deactivated user is out at once)
 * and role checks. Organisation checks live with the objects they protect.
 */
import type { RequestHandler } from 'express';
import type { Actor, Role } from '../../domain/roles';
import type { ActorRef } from '../../domain/assignment';
import type { Repositories } from '../../store/repositories';
import { forbidden, unauthorized } from '../errors';
import type { TokenService } from './tokens';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      actor?: Actor;
    }
  }
}

export function authenticate({ tokens, repos }: { tokens: TokenService; repos: Repositories }): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(unauthorized());
    const claims = tokens.verify(match[1]);
    if (!claims) return next(unauthorized('Сеанс истёк или недействителен: войдите снова'));
    const user = await repos.users.get(claims.sub);
    if (!user || !user.active) return next(unauthorized('Сеанс истёк или недействителен: войдите снова'));
    req.actor = { id: user._id, email: user.email, name: user.name, role: user.role, organization: user.organization };
    next();
  };
}

export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.actor) return next(unauthorized());
    if (!roles.includes(req.actor.role)) return next(forbidden());
    next();
  };
}

/** The authenticated actor; routes behind authenticate() always have one. */
export function actorOf(req: { actor?: Actor }): Actor {
  if (!req.actor) throw unauthorized();
  return req.actor;
}

export function actorRef(actor: Actor): ActorRef {
  return { id: actor.id, email: actor.email, role: actor.role };
}
