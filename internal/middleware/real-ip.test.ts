import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMiddlewareSpec, compileChain, DEFAULT_MIDDLEWARE_DEPS, inRunOrder, type MiddlewareSpec } from './index.ts';
import { CLOUDFLARE_RANGES } from './cloudflare-ranges.ts';

function spec(name: string, options: Record<string, unknown>, extra: Partial<MiddlewareSpec> = {}): MiddlewareSpec {
  const r = buildMiddlewareSpec(name, options, `proxy.app.middlewares.${name}`);
  if (r.kind !== 'spec') throw new Error(JSON.stringify(r));
  return { ...r.spec, ...extra };
}

test('real_ip: GoDoxy defaults (X-Real-IP, not recursive); without from the entrypoint trusted_proxies decide', () => {
  const c = compileChain([spec('RealIP', {})], DEFAULT_MIDDLEWARE_DEPS);
  const rule = c.chain?.clientIpRule;
  assert.deepEqual({ header: rule?.header, recursive: rule?.recursive, from: rule?.from }, { header: 'X-Real-IP', recursive: false, from: undefined });
  const labels = compileChain([spec('real_ip', { header: 'X-Forwarded-For', from: '172.16.0.0/12, 10.0.0.1', recursive: 'true' })], DEFAULT_MIDDLEWARE_DEPS).chain?.clientIpRule;
  assert.deepEqual([labels?.header, labels?.from?.entries, labels?.recursive], ['X-Forwarded-For', ['172.16.0.0/12', '10.0.0.1/32'], true]);
});

test('real_ip: bad options are label errors naming the option', () => {
  const bad = (o: Record<string, unknown>): string[] => {
    const r = buildMiddlewareSpec('real_ip', o, 'proxy.app.middlewares.real_ip');
    return r.kind === 'problems' ? r.problems.map((p) => p.key) : [];
  };
  assert.deepEqual(bad({ from: '10.0.0.0/33' }), ['proxy.app.middlewares.real_ip.from']);
  assert.deepEqual(bad({ from: '' }), ['proxy.app.middlewares.real_ip.from']);
  assert.deepEqual(bad({ header: 'X Real' }), ['proxy.app.middlewares.real_ip.header']);
  assert.deepEqual(bad({ recursive: 'maybe' }), ['proxy.app.middlewares.real_ip.recursive']);
  assert.deepEqual(bad({ bypass: '- path /x' }), ['proxy.app.middlewares.real_ip.bypass']);
  assert.deepEqual(bad({ form: '10.0.0.0/8' }), ['proxy.app.middlewares.real_ip.form']);
});

test('cloudflare_real_ip: CF-Connecting-IP from Cloudflare\'s ranges (not recursive, as GoDoxy), plus from', () => {
  const rule = compileChain([spec('CloudflareRealIP', { from: '172.20.0.0/16' })], DEFAULT_MIDDLEWARE_DEPS).chain?.clientIpRule;
  assert.equal(rule?.header, 'CF-Connecting-IP');
  assert.equal(rule?.recursive, false);
  assert.equal(rule?.from?.contains('173.245.48.7'), true);
  assert.equal(rule?.from?.contains('2606:4700::1'), true);
  assert.equal(rule?.from?.contains('172.20.0.9'), true);
  assert.equal(rule?.from?.contains('192.168.1.1'), false, 'private ranges are not trusted unless listed');
  assert.equal(CLOUDFLARE_RANGES.length, 22);
});

test('the client rule is not a step: listed first, whatever its priority; two rules in one chain are refused', () => {
  const c = compileChain([spec('rate_limit', { average: 5, priority: 1 }), spec('real_ip', { from: '10.0.0.0/8', priority: 50 })], DEFAULT_MIDDLEWARE_DEPS);
  assert.deepEqual(c.chain?.names, ['real_ip', 'rate_limit']);
  // bellhop check lists them the same way
  assert.deepEqual(inRunOrder([spec('rate_limit', { average: 5, priority: 1 }), spec('real_ip', { priority: 50 }), spec('cidr_whitelist', { allow: '10.0.0.0/8', priority: 0 })]).map((m) => m.name), ['real_ip', 'cidr_whitelist', 'rate_limit']);
  c.chain?.close();
  const two = compileChain([spec('real_ip', { from: '10.0.0.0/8' }), spec('cloudflare_real_ip', {})], DEFAULT_MIDDLEWARE_DEPS);
  assert.equal(two.chain, undefined);
  assert.match(two.problems[0]?.message ?? '', /already decides who the client is/);
});

test('rate_limit reads GoDoxy\'s period as well as periods (not both)', () => {
  const one = buildMiddlewareSpec('rate_limit', { average: 5, period: '1m' }, 'k');
  assert.equal(one.kind, 'spec');
  const both = buildMiddlewareSpec('rate_limit', { average: 5, period: '1m', periods: '1s' }, 'k');
  assert.equal(both.kind, 'problems');
  const bad = buildMiddlewareSpec('rate_limit', { average: 5, period: 'soon' }, 'k');
  assert.deepEqual(bad.kind === 'problems' ? bad.problems.map((p) => p.key) : [], ['k.period']);
});
