// A request rerouted to another route (its member died and the table changed while it waited)
// runs each chain once: the entrypoint's never again (a rate limit counts it once, its header
// edits and response edits stay), the first route's edits are dropped, the new route's run once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { ProxyMiddleware } from '../../internal/proxy/index.ts';
import { startRecordingBackend } from '../support/recording-backend.ts';
import { closedPort, member, startProxy, testRoute } from './proxy-harness.ts';

test('a reroute to another route runs the entrypoint chain once and each route chain once', async (t) => {
  const backend = await startRecordingBackend();
  t.after(() => backend.close());
  const calls = { entry: 0, a: 0, b: 0 };
  const entry: ProxyMiddleware = (_req, _res, facts) => {
    calls.entry++;
    facts.upstreamHeaders.push('X-Entry', String(calls.entry));
    facts.onResponseHead((_s, h) => h.push('x-entry-edit', String(calls.entry)));
    return 'continue';
  };
  const dead = member('a-1', `http://127.0.0.1:${String(await closedPort())}`);
  const b = testRoute('b', [member('b-1', backend.origin)], {
    middleware: (_req, _res, facts) => {
      calls.b++;
      facts.upstreamHeaders.push('X-Route', 'b');
      return 'continue';
    },
  });
  const h = await startProxy({});
  t.after(() => h.close());
  const a = testRoute('a', [dead], {
    middleware: (_req, _res, facts) => {
      calls.a++;
      facts.upstreamHeaders.push('X-Route', 'a');
      facts.onResponseHead((_s, hd) => hd.push('x-route-a-edit', '1'));
      return Promise.resolve('continue');
    },
    // the member is gone; the table now sends the host to route b
    awaitMember: () => {
      h.routes.set('app', b);
      return Promise.resolve(true);
    },
  });
  h.routes.set('app', a);
  h.proxy.setEntryMiddleware(entry);

  const res = await request(`http://127.0.0.1:${String(h.port)}/x`, { headers: { host: 'app' } });
  assert.equal(res.statusCode, 200);
  await res.body.text();
  assert.deepEqual(calls, { entry: 1, a: 1, b: 1 });
  assert.equal(backend.requests.length, 1);
  const got = backend.requests[0]!;
  assert.deepEqual(got.headerAll('x-entry'), ['1'], 'the entrypoint chain\'s edit is kept, once');
  assert.deepEqual(got.headerAll('x-route'), ['b'], 'only the route that serves the request edits it');
  assert.equal(res.headers['x-entry-edit'], '1', 'the entrypoint\'s response edit stays');
  assert.equal(res.headers['x-route-a-edit'], undefined, 'the first route\'s response edit is dropped');
});
