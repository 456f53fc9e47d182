/** Health, readiness and the API's self-description, as operators and client authors use them. */
import { eventually, startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('service', { worker: false });
});
afterAll(() => h?.stop());

describe('health and readiness', () => {
  it('answers /healthz while the process lives', async () => {
    const res = await h.request('GET', '/healthz');
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('is not ready while no worker polls, and becomes ready once one does', async () => {
    const before = await h.request('GET', '/readyz');
    expect(before.status).toBe(503);
    expect(before.body.checks).toMatchObject({ mongodb: { ok: true }, temporal: { ok: true }, worker: { ok: false } });

    await h.startWorker();
    const after = await eventually(async () => {
      const res = await h.request('GET', '/readyz');
      return res.status === 200 ? res : undefined;
    }, 30_000, 'readiness');
    expect(after.body).toMatchObject({ status: 'ready', checks: { worker: { ok: true } } });
  });
});

describe('the OpenAPI description', () => {
  const routes: Array<[string, string]> = [
    ['post', '/api/auth/login'],
    ['get', '/api/auth/me'],
    ['post', '/api/organizations'],
    ['get', '/api/organizations'],
    ['get', '/api/organizations/{code}'],
    ['patch', '/api/organizations/{code}'],
    ['post', '/api/users'],
    ['get', '/api/users'],
    ['post', '/api/recommendations'],
    ['get', '/api/recommendations'],
    ['get', '/api/recommendations/{id}'],
    ['post', '/api/recommendations/{id}/issue'],
    ['post', '/api/recommendations/{id}/withdraw'],
    ['get', '/api/assignments'],
    ['get', '/api/assignments/{id}'],
    ['post', '/api/assignments/{id}/submissions'],
    ['post', '/api/assignments/{id}/review'],
    ['post', '/api/assignments/{id}/extension-requests'],
    ['post', '/api/assignments/{id}/extension-requests/decision'],
    ['get', '/api/assignments/{id}/files/{fileId}'],
  ];

  it.each(routes)('describes %s %s with its error responses', async (method, path) => {
    const res = await h.request('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    const operation = res.body.paths[path]?.[method];
    expect(operation).toBeDefined();
    expect(operation.responses['400']).toBeDefined();
    if (path !== '/api/auth/login') expect(operation.security).toEqual([{ bearerAuth: [] }]);
  });

  it('serves interactive docs at /api/docs', async () => {
    const res = await h.request('GET', '/api/docs/');
    expect(res.status).toBe(200);
    expect(String(res.body)).toContain('swagger-ui');
  });
});
