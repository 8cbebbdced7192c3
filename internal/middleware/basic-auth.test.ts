// basic_auth over real sockets, with hashes made by Debian's `htpasswd -B` (apache2-utils; .ci/run
// installs it): a recording upstream and the middleware run by a minimal proxy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { request } from 'undici';
import { startRecordingBackend, type RecordingBackend } from '../../test/support/recording-backend.ts';
import { startAuthHarness, type Harness } from './auth-harness.test-support.ts';
import { basicAuth, CompareGate } from './basic-auth.ts';
import type { MiddlewareDeps, MiddlewareProblem, MiddlewareSpec } from './middleware.ts';

const deps: MiddlewareDeps = { now: () => Date.now(), readFile: (p) => readFileSync(p, 'utf8') };

function spec(options: Record<string, unknown>): MiddlewareSpec {
  return { name: 'basic_auth', priority: 10, bypass: [], options, key: 'proxy.app.middlewares.basic_auth' };
}

function problems(options: Record<string, unknown>): MiddlewareProblem[] {
  const out = basicAuth.create(spec(options), deps);
  assert.ok(Array.isArray(out), 'expected problems');
  return out;
}

/** `name:hash` as `htpasswd -nbB` prints it (cost 5: the tests check the format, not the cost). */
function htpasswd(name: string, password: string): string {
  return execFileSync('htpasswd', ['-nbB', '-C', '5', name, password], { encoding: 'utf8' }).trim();
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

let backend: RecordingBackend;
let dir = '';
const harnesses: Harness[] = [];
let alice = '';

before(async () => {
  backend = await startRecordingBackend();
  dir = mkdtempSync(join(tmpdir(), 'bellhop-basic-auth-'));
  alice = htpasswd('alice', 'wonder land');
});

after(async () => {
  for (const h of harnesses) await h.close();
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

async function proxyWith(options: Record<string, unknown>): Promise<Harness> {
  const mw = basicAuth.create(spec(options), deps);
  assert.ok(!Array.isArray(mw), `problems: ${JSON.stringify(mw)}`);
  const h = await startAuthHarness(mw, backend.origin);
  harnesses.push(h);
  return h;
}

async function get(h: Harness, authorization?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const headers: Record<string, string> = { host: 'app.example.test' };
  if (authorization !== undefined) headers['authorization'] = authorization;
  const res = await request(`${h.origin}/private`, { headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

test('htpasswd -B writes $2y$ hashes (what the users option takes)', () => {
  assert.match(alice, /^alice:\$2y\$05\$[./A-Za-z0-9]{53}$/);
});

test('options: users or users_file needed; only bcrypt; duplicates, unreadable files and bad realms named', () => {
  assert.deepEqual(problems({}).map((p) => p.key), ['proxy.app.middlewares.basic_auth.users']);
  const apr1 = problems({ users: ['bob:$apr1$abc$0123456789abcdefghijkl'] });
  assert.equal(apr1.length, 1);
  assert.match(apr1[0]!.message, /htpasswd -B/);
  assert.match(problems({ users: [`${alice.replaceAll('$', () => '$$')}`] })[0]!.message, /\$\$/, 'an unescaped compose value names $$');
  assert.match(problems({ users: [alice, alice] })[0]!.message, /twice/);
  assert.match(problems({ users: ['no-colon'] })[0]!.message, /name:hash/);
  assert.equal(problems({ users: 3 })[0]!.key, 'proxy.app.middlewares.basic_auth.users');
  const missing = problems({ users_file: join(dir, 'missing.htpasswd') });
  assert.equal(missing[0]!.key, 'proxy.app.middlewares.basic_auth.users_file');
  assert.match(missing[0]!.message, /cannot be read/);
  assert.equal(problems({ users: [alice], realm: 'say "hi"' })[0]!.key, 'proxy.app.middlewares.basic_auth.realm');
  assert.equal(problems({ users: [alice], realm: '' })[0]!.key, 'proxy.app.middlewares.basic_auth.realm');
  assert.equal(basicAuth.restrictsAccess, true);
  assert.deepEqual([...basicAuth.options].sort(), ['realm', 'users', 'users_file']);
});

test('a valid user goes on, and the member never sees the Authorization header', async () => {
  const h = await proxyWith({ users: [alice] });
  const before = backend.requests.length;
  const res = await get(h, basic('alice', 'wonder land'));
  assert.equal(res.status, 200);
  assert.equal(res.body, 'ok GET /private');
  assert.equal(backend.requests.length, before + 1);
  assert.deepEqual(backend.requests.at(-1)!.headerAll('authorization'), []);
  // Again, now from the verified cache: same verdict, still not forwarded.
  const again = await get(h, basic('alice', 'wonder land'));
  assert.equal(again.status, 200);
  assert.deepEqual(backend.requests.at(-1)!.headerAll('authorization'), []);
});

test('wrong password, unknown user and malformed Authorization: 401 + Basic challenge, nothing upstream', async () => {
  const h = await proxyWith({ users: [alice] });
  // Verified once, so the cache holds alice's right password; a wrong one must still fail.
  assert.equal((await get(h, basic('alice', 'wonder land'))).status, 200);
  const before = backend.requests.length;
  const cases: (string | undefined)[] = [
    undefined,
    basic('alice', 'wonder lan'),
    basic('alice', 'wonder land '),
    basic('Alice', 'wonder land'),
    basic('mallory', 'wonder land'),
    basic('', 'wonder land'),
    'Bearer abc',
    'Basic',
    'Basic !!!!',
    `Basic ${Buffer.from('alice').toString('base64')}`,
    `Digest ${Buffer.from('alice:wonder land').toString('base64')}`,
  ];
  for (const auth of cases) {
    const res = await get(h, auth);
    assert.equal(res.status, 401, String(auth));
    assert.equal(res.headers['www-authenticate'], 'Basic realm="Bellhop", charset="UTF-8"', String(auth));
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'MIDDLEWARE_UNAUTHORIZED');
  }
  assert.equal(backend.requests.length, before);
});

test('users_file: an htpasswd file made by htpasswd -cB, comments and blank lines skipped; realm option', async () => {
  const file = join(dir, 'users.htpasswd');
  execFileSync('htpasswd', ['-cbB', '-C', '5', file, 'bob', 'b0b'], { stdio: 'pipe' });
  execFileSync('htpasswd', ['-bB', '-C', '5', file, 'carol', 'c:a:r:o:l'], { stdio: 'pipe' });
  writeFileSync(file, `# team\n\n${readFileSync(file, 'utf8')}`);
  const h = await proxyWith({ users_file: file, realm: 'Family photos' });
  assert.equal((await get(h, basic('bob', 'b0b'))).status, 200);
  assert.equal((await get(h, basic('carol', 'c:a:r:o:l'))).status, 200, 'a password may contain colons');
  const refused = await get(h, basic('bob', 'c:a:r:o:l'));
  assert.equal(refused.status, 401);
  assert.equal(refused.headers['www-authenticate'], 'Basic realm="Family photos", charset="UTF-8"');
});

test('$2a$ and $2b$ hashes work too, beside $2y$, and users given as one comma-separated label value', async () => {
  const b = `dave:${bcrypt.hashSync('d4ve', 5)}`;
  assert.match(b, /^dave:\$2b\$/);
  const a = `erin:${bcrypt.hashSync('3rin', 5).replace(/^\$2b\$/, '$2a$')}`;
  const h = await proxyWith({ users: `${alice}, ${b},${a}` });
  assert.equal((await get(h, basic('alice', 'wonder land'))).status, 200);
  assert.equal((await get(h, basic('dave', 'd4ve'))).status, 200);
  assert.equal((await get(h, basic('erin', '3rin'))).status, 200);
  assert.equal((await get(h, basic('erin', 'd4ve'))).status, 401);
});

test('a UTF-8 password (RFC 7617 charset="UTF-8")', async () => {
  const h = await proxyWith({ users: [htpasswd('zoë', 'pässwörd ✓')] });
  assert.equal((await get(h, basic('zoë', 'pässwörd ✓'))).status, 200);
  assert.equal((await get(h, basic('zoë', 'passwort'))).status, 401);
});

test('the compare gate: at most maxActive at once, maxQueued waiting, the rest refused; slots pass on in order', async () => {
  const gate = new CompareGate(2, 1);
  const release: (() => void)[] = [];
  const order: number[] = [];
  const task = (n: number) => () => new Promise<number>((resolve) => {
    order.push(n);
    release.push(() => resolve(n));
  });
  const a = gate.run(task(1));
  const b = gate.run(task(2));
  const c = gate.run(task(3));
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  assert.equal(gate.run(task(4)), undefined, 'queue full: refused at once');
  assert.deepEqual([gate.active, gate.queued], [2, 1]);
  assert.deepEqual(order, [1, 2]);
  release.shift()!();
  assert.equal(await a, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, [1, 2, 3], 'the waiting task took the freed slot');
  assert.deepEqual([gate.active, gate.queued], [2, 0]);
  release.shift()!();
  release.shift()!();
  assert.deepEqual([await b, await c], [2, 3]);
  assert.deepEqual([gate.active, gate.queued], [0, 0]);
  const failing = gate.run(() => Promise.reject(new Error('boom')));
  await assert.rejects(failing!, /boom/);
  assert.equal(gate.active, 0, 'a failed task frees its slot');
});
