import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import { Agent, Pool } from './lean-undici.ts';

test('request() works on a lean Pool and Agent (the api methods undici’s index adds)', async (t) => {
  const server = createServer((req, res) => res.end(`${req.method ?? ''} ${req.url ?? ''}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const pool = new Pool(origin);
  const agent = new Agent();
  t.after(() => Promise.all([pool.close(), agent.close()]));
  assert.equal(await (await pool.request({ path: '/a?b=1', method: 'GET' })).body.text(), 'GET /a?b=1');
  assert.equal(await (await agent.request({ origin, path: '/c', method: 'GET' })).body.text(), 'GET /c');
});

test("the lean undici classes are undici's own (an upgrade that moves a file fails here)", () => {
  // undici's index, loaded only here (after the test above: it adds the api methods too)
  const undici = createRequire(import.meta.url)('undici') as typeof Undici;
  assert.equal(Pool, undici.Pool);
  assert.equal(Agent, undici.Agent);
});
