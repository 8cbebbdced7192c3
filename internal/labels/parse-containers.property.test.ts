// Property tests: any labels never throw, and a line break in any value is an error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { container, options } from '../../test/fixtures/labels/containers.ts';
import { CONTAINER_LEVEL, parseContainers, parseDuration } from './index.ts';

const SHORTCUT_NAMES = ['ports', 'schemes', 'protos', 'protocols', 'hosts', 'no_tls_verifies'];

const segment = fc.oneof(
  fc.constantFrom('app', '*', '#1', '#2', '#0', '$1', 'port', 'scheme', 'host', 'load_balance', 'mode', 'link', 'weight', 'sticky', 'options', 'from',
    'healthcheck', 'path', 'interval', 'aliases', 'idle_timeout', 'exclude', 'network', 'ports', 'middlewares', 'depends_on', 'start_endpoint',
    'idle_ignore', 'user_agents', 'paths', ''),
  fc.string({ maxLength: 6 }),
);
const key = fc.oneof(fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => ['proxy', ...s].join('.')), fc.constant('proxy'), fc.string({ maxLength: 12 }));
const value = fc.oneof(
  fc.constantFrom('80', '70000', 'abc', 'true', 'iphash', 'round_robin', '10s', '0', '/health', 'a, b', 'port: 80', 'load_balance: {mode: x}', '[1, 2]', '- a\n- b', '', '*.x.com', '8080:80', '{'),
  fc.string({ maxLength: 20 }),
  fc.dictionary(fc.constantFrom('port', 'scheme', 'healthcheck', 'load_balance', 'x'), fc.oneof(fc.string({ maxLength: 5 }), fc.integer())).map((o) => JSON.stringify(o)),
);

test('property: arbitrary label maps never throw and give well-formed results', () => {
  fc.assert(fc.property(fc.dictionary(key, value, { maxKeys: 8 }), fc.boolean(), (labels, exposeAll) => {
    const r = parseContainers([container({ name: 'app', labels }), container({ name: 'other', labels: { 'proxy.other.port': '80' } })], options({ exposeAll }));
    for (const e of r.errors) {
      assert.equal(typeof e.code, 'string');
      assert.ok(e.source === 'app' || e.source === 'other', e.source);
      assert.ok(e.message.length > 0);
    }
    // The healthy neighbour is never affected by the fuzzed container's labels, unless the
    // fuzzed one legitimately claims the alias "other" first (it is older).
    if (!r.errors.some((e) => e.code === 'ALIAS_CONFLICT' || e.code === 'POOL_SETTINGS_CONFLICT') && !r.routes.some((x) => x.name === 'other' && x.members.length > 1)) {
      assert.ok(r.routes.some((x) => x.members.some((m) => m.name === 'other')));
    }
    for (const rt of r.routes) for (const m of rt.members) assert.ok(m.url === '' || /^https?:\/\/[^/\s]+:\d+$/.test(m.url), m.url);
    // Fails closed: a refused route has nothing to send a request to.
    for (const rt of r.routes) if (rt.refused !== undefined) assert.ok(rt.members.length === 0 && rt.refused.keys.length > 0);
    // Unsupported access control refuses the aliases it applies to; an error in one alias's
    // labels costs that alias (`proxy.<alias>.…`, `proxy.#N.…`); any other costs the container.
    const refusal = 'LABEL_ACCESS_CONTROL_UNSUPPORTED';
    if (r.routes.some((x) => x.refused !== undefined)) {
      assert.ok(r.errors.some((e) => e.source === 'app' && (e.code === refusal || e.code.includes('MIDDLEWARE') || /\bmiddlewares\b/i.test(`${e.key} ${e.message}`))));
    }
    const served = (alias: string) => r.routes.some((x) => x.name === alias && x.members.some((m) => m.name === 'app'));
    for (const e of r.errors) {
      if (e.source !== 'app' || e.code === refusal || e.code.startsWith('ALIAS_') || e.code.startsWith('POOL_')) continue;
      const target = e.key.split('.')[1] ?? '';
      const norm = target.toLowerCase().replace(/[_-]/g, '');
      const containerWide = e.key === 'proxy' || e.key.split('.').length < 2 || target === '*' || (e.key.split('.').length === 2 && [...CONTAINER_LEVEL, ...SHORTCUT_NAMES].some((n) => n.replace(/_/g, '') === norm)) || norm === 'idleignore'
        || (e.key.split('.').length === 2 && e.message.startsWith('unknown label'));
      if (containerWide && !e.message.startsWith('item ')) assert.ok(!r.routes.some((x) => x.members.some((m) => m.name === 'app')), `${e.code} ${e.key}`);
      else if (!target.startsWith('#') && !target.startsWith('$')) assert.ok(!served(target.toLowerCase()), `${e.code} ${e.key}`);
    }
  }), { numRuns: 2000 });
});

const scalarKeys = ['proxy.app.port', 'proxy.app.host', 'proxy.app.scheme', 'proxy.app.load_balance.mode', 'proxy.app.load_balance.link', 'proxy.app.healthcheck.path',
  'proxy.app.load_balance.options.header', 'proxy.*.healthcheck.interval', 'proxy.#1.no_tls_verify', 'proxy.network', 'proxy.start_endpoint', 'proxy.stop_signal',
  'proxy.idle_timeout', 'proxy.exclude', 'proxy.aliases', 'proxy.depends_on', 'proxy.host', 'proxy.app.load_balance.weight',
  'proxy.idle_ignore.user_agents', 'proxy.idle_ignore.from', 'proxy.idle_ignore.paths'];

test('property: a CR or LF in any scalar value is an error and the container gets no routes', () => {
  const withBreak = fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\r', '\n', '\r\n', '\0'), fc.string({ maxLength: 10 })).map(([a, b, c]) => a + b + c)
    // `- a` lines are a YAML list (GoDoxy's block form for aliases and depends_on), not a broken scalar
    .filter((v) => !/^\s*-\s/.test(v));
  fc.assert(fc.property(fc.constantFrom(...scalarKeys), withBreak, (k, v) => {
    const r = parseContainers([container({ name: 'app', labels: { [k]: v } })], options());
    assert.ok(r.errors.length > 0, `${k}=${JSON.stringify(v)} gave no error`);
    assert.deepEqual(r.routes, []);
  }), { numRuns: 1500 });
});

test('property: a CR or LF inside a YAML value is an error', () => {
  const field = fc.constantFrom('host', 'healthcheck: {path', 'load_balance: {link', 'load_balance: {options: {header');
  fc.assert(fc.property(field, fc.string({ maxLength: 8 }), fc.constantFrom('\\r', '\\n'), (f, s, brk) => {
    const inner = `"${s.replace(/["\\]/g, '')}${brk}x"`;
    const closing = f.split('{').length - 1;
    const yaml = `${f}: ${inner}${'}'.repeat(closing)}`;
    const r = parseContainers([container({ name: 'app', labels: { 'proxy.app': yaml } })], options());
    assert.ok(r.errors.length > 0, yaml);
    assert.deepEqual(r.routes, []);
  }), { numRuns: 500 });
});

test('durations: units, combinations, zero, bare numbers and junk', () => {
  const ms = (s: string): number | string => {
    const r = parseDuration(s);
    return r.ok ? r.ms : r.message;
  };
  assert.equal(ms('1h30m'), 5_400_000);
  assert.equal(ms('30m1h'), 5_400_000);
  assert.equal(ms('1.5s'), 1500);
  assert.equal(ms('2d'), 172_800_000);
  assert.equal(ms('250ms'), 250);
  assert.equal(ms(' 0 '), 0);
  assert.match(String(ms('10')), /no unit; did you mean 10s\?/);
  assert.match(String(ms('-5s')), /negative/);
  assert.match(String(ms('')), /empty/);
  assert.equal(ms('5w'), 5 * 7 * 86_400_000);
  assert.equal(ms('1M'), 30 * 86_400_000);
  assert.match(String(ms('5y')), /unknown unit "y"/);
  assert.match(String(ms('5 s')), /invalid duration/);
  assert.match(String(ms('0.5ms')), /whole number of milliseconds/);
  assert.match(String(ms(`${'9'.repeat(20)}d`)), /too large/);
  fc.assert(fc.property(fc.string(), (s) => {
    const r = parseDuration(s);
    assert.ok(r.ok ? Number.isSafeInteger(r.ms) && r.ms >= 0 : r.message.length > 0);
  }));
  fc.assert(fc.property(fc.nat(1000), fc.nat(59), fc.nat(59), (h, m, s) => {
    const r = parseDuration(`${String(h)}h${String(m)}m${String(s)}s`);
    assert.deepEqual(r, { ok: true, ms: ((h * 60 + m) * 60 + s) * 1000 });
  }));
});
