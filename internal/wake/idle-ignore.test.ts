import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { compileIdleIgnore } from './idle-ignore.ts';

function req(url: string, ua?: string): IncomingMessage {
  return { url, method: 'GET', headers: ua === undefined ? {} : { 'user-agent': ua } } as IncomingMessage;
}

test('idle_ignore matcher: User-Agent contains a fragment, case-insensitive', () => {
  const m = compileIdleIgnore({ userAgents: ['Uptime-Kuma', 'compatible; UptimeRobot'], from: [], paths: [] })!;
  assert.equal(m.matches(req('/', 'Uptime-Kuma/1.23.11'), undefined), true);
  assert.equal(m.matches(req('/', 'uptime-kuma/2.0'), undefined), true);
  assert.equal(m.matches(req('/', 'Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)'), undefined), true);
  assert.equal(m.matches(req('/', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'), undefined), false);
  assert.equal(m.matches(req('/', 'Uptime Kuma'), undefined), false);
  assert.equal(m.matches(req('/'), undefined), false);
  assert.equal(m.matches(req('/', ''), undefined), false);
});

test('idle_ignore matcher: the path equals or is below one listed; the query does not matter', () => {
  const m = compileIdleIgnore({ userAgents: [], from: [], paths: ['/health', '/api/ping/'] })!;
  for (const url of ['/health', '/health?full=1', '/health/', '/health/live', '/api/ping', '/api/ping/x?y']) assert.equal(m.matches(req(url), undefined), true, url);
  for (const url of ['/', '/healthz', '/healthx/live', '/api', '/api/pingpong', '/x/health', '/Health']) assert.equal(m.matches(req(url), undefined), false, url);
  const all = compileIdleIgnore({ userAgents: [], from: [], paths: ['/'] })!;
  assert.equal(all.matches(req('/anything/at?all'), undefined), true);
});

test('idle_ignore matcher: the real client IP in an address or range (IPv4, IPv6); unknown IP never matches', () => {
  const m = compileIdleIgnore({ userAgents: [], from: ['192.168.1.20', '10.0.5.0/24', 'fd00::/8'], paths: [] })!;
  assert.equal(m.matches(req('/'), '192.168.1.20'), true);
  assert.equal(m.matches(req('/'), '192.168.1.21'), false);
  assert.equal(m.matches(req('/'), '10.0.5.200'), true);
  assert.equal(m.matches(req('/'), '10.0.6.1'), false);
  assert.equal(m.matches(req('/'), 'fd12::1'), true);
  assert.equal(m.matches(req('/'), '2001:db8::1'), false);
  assert.equal(m.matches(req('/'), undefined), false);
  assert.equal(m.matches(req('/'), ''), false);
  assert.equal(m.matches(req('/'), 'not-an-ip'), false);
});

test('idle_ignore matcher: ANY criterion matches; nothing to match → no matcher; a bad range is left out, not fatal', () => {
  const m = compileIdleIgnore({ userAgents: ['Gatus'], from: ['10.0.5.0/24'], paths: ['/health'] })!;
  assert.equal(m.matches(req('/health', 'curl/8'), '1.2.3.4'), true);
  assert.equal(m.matches(req('/', 'Gatus/5'), '1.2.3.4'), true);
  assert.equal(m.matches(req('/', 'curl/8'), '10.0.5.9'), true);
  assert.equal(m.matches(req('/', 'curl/8'), '1.2.3.4'), false);
  assert.equal(compileIdleIgnore(undefined), undefined);
  assert.equal(compileIdleIgnore({ userAgents: [], from: [], paths: [] }), undefined);
  assert.equal(compileIdleIgnore({ userAgents: [''], from: ['nope'], paths: ['relative'] }), undefined);
  const partly = compileIdleIgnore({ userAgents: [], from: ['nope', '10.0.0.0/8'], paths: [] })!;
  assert.equal(partly.matches(req('/'), '10.1.2.3'), true);
});
