/** What production must set, refused with the variable's name; development needs none of it. */
import { ConfigError, loadConfig } from '../../config';

const SECRET_A = 'a'.repeat(40);
const SECRET_B = 'b'.repeat(40);
const production = { NODE_ENV: 'production', JWT_SECRET: SECRET_A, SESSION_SECRET: SECRET_B, BASE_URL: 'https://kontrol.example.org' };

const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
    return '';
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message;
  }
};

describe('configuration in production', () => {
  it('starts with both secrets and the public address', () => {
    expect(loadConfig(production).baseUrl).toBe('https://kontrol.example.org');
  });

  it.each([
    ['no JWT_SECRET', { JWT_SECRET: '' }, /JWT_SECRET: required in production/],
    ['no SESSION_SECRET', { SESSION_SECRET: '' }, /SESSION_SECRET: required in production/],
    ['a session secret equal to the token secret', { SESSION_SECRET: SECRET_A }, /SESSION_SECRET: must differ from JWT_SECRET/],
    ['no BASE_URL', { BASE_URL: '' }, /BASE_URL: required in production/],
    ['demo users with the published password', { DEMO_DATA: 'true' }, /DEMO_DATA: demo users in production need a DEMO_PASSWORD/],
    ['demo users with the published password set explicitly', { DEMO_DATA: 'true', DEMO_PASSWORD: 'kontrol-demo' }, /DEMO_DATA: demo users in production need a DEMO_PASSWORD/],
  ])('refuses to start with %s', (_what, change, message) => {
    expect(problemsOf({ ...production, ...change })).toMatch(message);
  });

  it('allows demo users with a password of their own', () => {
    expect(problemsOf({ ...production, DEMO_DATA: 'true', DEMO_PASSWORD: 'a-password-of-our-own' })).toBe('');
  });

  it('names every problem at once', () => {
    const message = problemsOf({ NODE_ENV: 'production' });
    for (const name of ['JWT_SECRET', 'SESSION_SECRET', 'BASE_URL']) expect(message).toContain(`${name}: required in production`);
  });
});

describe('configuration outside production', () => {
  it('needs no secrets and points links at this machine', () => {
    expect(loadConfig({ NODE_ENV: 'development', PORT: '3100' }).baseUrl).toBe('http://127.0.0.1:3100');
    expect(problemsOf({ NODE_ENV: 'test', DEMO_DATA: 'true' })).toBe('');
  });
});
