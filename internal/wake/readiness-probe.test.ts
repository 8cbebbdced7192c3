import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { probeHttp } from './readiness-probe.ts';

test('HTTP readiness follows the member healthcheck.status (default 200–399)', async (t) => {
  let status = 404;
  const server = createServer((_req, res) => res.writeHead(status).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  const probe = (healthyStatus?: ReadonlyArray<readonly [number, number]>) => probeHttp({ url, method: 'GET', timeoutMs: 2000, noTlsVerify: false, healthyStatus });
  assert.equal(await probe(), false, '404 is not ready by default');
  assert.equal(await probe([[200, 499]]), true, '404 is ready with status 200-499');
  status = 302;
  assert.equal(await probe(), true);
  assert.equal(await probe([[200, 200], [204, 204]]), false);
  status = 503;
  assert.equal(await probe([[200, 499]]), false);
});
