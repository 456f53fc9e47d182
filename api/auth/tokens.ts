import jwt from 'jsonwebtoken';

export interface TokenClaims {
  sub: string;
}

export interface TokenService {
  sign(userId: string): string;
  verify(token: string): TokenClaims | undefined;
}

export function createTokenService({ secret, ttl }: { secret: string; ttl: string }): TokenService {
  return {
    sign: (userId) => jwt.sign({}, secret, { subject: userId, expiresIn: ttl as jwt.SignOptions['expiresIn'], algorithm: 'HS256' }),
    verify(token) {
      try {
        const claims = jwt.verify(token, secret, { algorithms: ['HS256'] });
        return typeof claims === 'object' && typeof claims.sub === 'string' ? { sub: claims.sub } : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
