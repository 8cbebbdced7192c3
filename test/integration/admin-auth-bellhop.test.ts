// api.auth and the non-loopback warning through a whole Bellhop (createBellhop, real sockets,
// no Docker): the token comes from token_file, /healthz stays open; without api.auth on a
// listener beyond loopback, start-up logs the warning and actions answer 403.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createBellhop } from '../../cmd/bellhop/app.ts';
import { loadConfig } from '../../internal/config/index.ts';

async function start(t: TestContext, yaml: string, apiHost: string) {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-admin-auth-'));
  writeFileSync(join(dir, 'api-token'), 'file-token-91c2e7\n');
  writeFileSync(join(dir, 'config.yml'), `docker: { hosts: [] }\nsticky:\n  secret_file: ${join(dir, 'sticky.key')}\n${yaml}`);
  const loaded = loadConfig({ env: {}, cwd: dir });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  const b = createBellhop(loaded.config, pino({ level: 'info' }, sink), new Uint8Array(32).fill(7));
  const ports = await b.start({ http: { host: '127.0.0.1', port: 0 }, api: { host: apiHost, port: 0 } });
  t.after(async () => {
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { base: `http://127.0.0.1:${String(ports.apiPort)}`, lines };
}

const status = async (res: Promise<Response>): Promise<number> => {
  const r = await res;
  await r.arrayBuffer();
  return r.status;
};

test('api.auth.token_file: 401 without or with a wrong token, 200 with it, /healthz open', async (t) => {
  const { base, lines } = await start(t, 'api:\n  auth:\n    token_file: ./api-token\n', '127.0.0.1');
  assert.equal(await status(fetch(`${base}/healthz`)), 200);
  assert.equal(await status(fetch(`${base}/`)), 401);
  assert.equal(await status(fetch(`${base}/api/routes`, { headers: { authorization: 'Bearer file-token-91c2e' } })), 401);
  assert.equal(await status(fetch(`${base}/api/routes`, { headers: { authorization: 'Bearer file-token-91c2e7' } })), 200);
  assert.equal(await status(fetch(`${base}/metrics`, { headers: { authorization: `Basic ${Buffer.from('me:file-token-91c2e7').toString('base64')}` } })), 200);
  assert.equal(await status(fetch(`${base}/api/containers/none/wake`, { method: 'POST', headers: { authorization: 'Bearer file-token-91c2e7' } })), 404);
  assert.ok(!lines.some((l) => /BEYOND LOOPBACK/.test(l.msg)));
});

test('no api.auth on a listener beyond loopback: a loud warning at start-up, actions 403, reads 200', async (t) => {
  const { base, lines } = await start(t, '', '0.0.0.0');
  const warning = lines.find((l) => /BEYOND LOOPBACK WITHOUT api\.auth/.test(l.msg));
  assert.ok(warning, `no warning in ${JSON.stringify(lines)}`);
  assert.equal(warning.level, 40);
  assert.equal(await status(fetch(`${base}/api/routes`)), 200);
  assert.equal(await status(fetch(`${base}/api/containers/none/sleep`, { method: 'POST' })), 403);
});
