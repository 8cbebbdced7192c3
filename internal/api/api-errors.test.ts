import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdminServer } from './admin-server.ts';
import { Metrics } from './metrics.ts';

test('the admin API answers its errors in the one shape, with a code', async (t) => {
  const metrics = new Metrics({ inFlight: () => 0, memberHealth: () => [], dockerSyncLag: () => [] }, { defaultMetrics: false });
  const admin = createAdminServer({
    serving: () => true,
    routes: () => { throw new Error('view failed'); },
    explain: (host) => ({ host }),
  }, metrics);
  const { port } = await admin.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => admin.close());
  const base = `http://127.0.0.1:${port}`;
  const cases: [string, RequestInit, number, string][] = [
    ['/healthz', { method: 'POST' }, 405, 'API_METHOD_NOT_ALLOWED'],
    ['/api/explain', {}, 400, 'API_MISSING_HOST'],
    ['/nope', {}, 404, 'API_NOT_FOUND'],
    ['/api/routes', {}, 500, 'API_INTERNAL'],
  ];
  for (const [path, init, status, code] of cases) {
    const res = await fetch(base + path, init);
    assert.equal(res.status, status, path);
    const { error } = await res.json() as { error: { code: string; status: number; message: string; endpoints?: string[]; detail?: string } };
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    assert.ok(error.message.length > 0);
    if (status === 405) assert.equal(res.headers.get('allow'), 'GET, HEAD');
    if (status === 404) assert.ok(error.endpoints?.includes('/api/routes'));
    if (status === 500) assert.match(error.detail ?? '', /view failed/);
  }
});
