import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HOP_BY_HOP_HEADERS, buildUpstreamHeaders, isWebSocketUpgrade, stripHopByHop, stripHopByHopObject } from './index.ts';
import type { ForwardingContext } from './index.ts';

const untrusted: ForwardingContext = { peerIp: '203.0.113.9', peerTrusted: false, clientIp: '203.0.113.9', tls: false };
const trusted: ForwardingContext = { peerIp: '10.0.0.1', peerTrusted: true, clientIp: '9.9.9.9', tls: true };

function get(out: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (out[i]!.toLowerCase() === name.toLowerCase()) values.push(out[i + 1]!);
  return values;
}

function names(out: readonly string[]): string[] {
  return out.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

const spoof = [
  'Host', 'app.example',
  'X-Forwarded-For', '6.6.6.6',
  'X-Real-IP', '6.6.6.6',
  'X-Forwarded-Proto', 'https',
  'X-Forwarded-Host', 'admin.internal',
  'X-Forwarded-Port', '443',
  'Forwarded', 'for=6.6.6.6',
  'X_Forwarded_For', '7.7.7.7',
  'X-Forwarded_Host', 'evil',
  'x_real_ip', '7.7.7.7',
  'X-Forwarded-Ssl', 'on',
  'Accept', '*/*',
];

test('untrusted peer: incoming forwarding headers are discarded, values come from the socket (reliability C3)', () => {
  const out = buildUpstreamHeaders(spoof, untrusted);
  assert.deepEqual(out, [
    'Host', 'app.example',
    'Accept', '*/*',
    'X-Forwarded-For', '203.0.113.9',
    'X-Real-IP', '203.0.113.9',
    'X-Forwarded-Proto', 'http',
    'X-Forwarded-Host', 'app.example',
  ]);
});

test('trusted peer: list kept plus the peer; its proto/host kept; X-Real-IP is ours (reliability C4)', () => {
  const out = buildUpstreamHeaders(spoof, trusted);
  assert.deepEqual(get(out, 'x-forwarded-for'), ['6.6.6.6, 10.0.0.1']);
  assert.deepEqual(get(out, 'x-real-ip'), ['9.9.9.9']);
  assert.deepEqual(get(out, 'x-forwarded-proto'), ['https']);
  assert.deepEqual(get(out, 'x-forwarded-host'), ['admin.internal']);
  assert.deepEqual(get(out, 'x-forwarded-port'), ['443']);
  assert.deepEqual(get(out, 'forwarded'), ['for=6.6.6.6']);
  assert.deepEqual(get(out, 'host'), ['app.example']);
  // Underscore spellings never pass, even from a trusted peer.
  assert.ok(!names(out).some((n) => n.includes('_')));
});

test('trusted peer: several X-Forwarded-For lines become one list; empty lines and missing values filled in', () => {
  const out = buildUpstreamHeaders(['Host', 'a', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2, 10.0.0.7', 'X-Forwarded-For', ' ', 'X-Forwarded-Proto', ''], { ...trusted, tls: false });
  assert.deepEqual(get(out, 'x-forwarded-for'), ['1.1.1.1, 2.2.2.2, 10.0.0.7, 10.0.0.1']);
  assert.deepEqual(get(out, 'x-forwarded-proto'), ['http'], 'an empty trusted value is replaced');
  assert.deepEqual(get(out, 'x-forwarded-host'), ['a']);
});

test('TLS sets X-Forwarded-Proto https; no Host means no X-Forwarded-Host; Host passes unchanged', () => {
  const out = buildUpstreamHeaders(['User-Agent', 'curl'], { ...untrusted, tls: true });
  assert.deepEqual(get(out, 'x-forwarded-proto'), ['https']);
  assert.deepEqual(get(out, 'x-forwarded-host'), []);
  const withHost = buildUpstreamHeaders(['HOST', 'App.Example:8080'], untrusted);
  assert.deepEqual(withHost.slice(0, 2), ['HOST', 'App.Example:8080']);
  assert.deepEqual(get(withHost, 'x-forwarded-host'), ['App.Example:8080']);
});

test('hop-by-hop headers and Connection-named headers are removed (reliability C1)', () => {
  const raw = [
    'Host', 'a',
    'Connection', 'keep-alive, Foo',
    'connection', 'BAR , ,baz',
    'Foo', '1',
    'bar', '2',
    'BAZ', '3',
    'Keep-Alive', 'timeout=5',
    'Proxy-Connection', 'keep-alive',
    'Proxy-Authorization', 'Basic x',
    'Proxy-Authenticate', 'Basic',
    'TE', 'trailers',
    'Trailer', 'Expires',
    'Transfer-Encoding', 'chunked',
    'Upgrade', 'h2c',
    'HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA',
    'Foobar', 'kept',
    'Cookie', 'a=1',
  ];
  const out = buildUpstreamHeaders(raw, untrusted);
  assert.deepEqual(out.slice(0, 6), ['Host', 'a', 'Foobar', 'kept', 'Cookie', 'a=1']);
  for (const n of [...HOP_BY_HOP_HEADERS, 'http2-settings', 'foo', 'bar', 'baz']) assert.ok(!names(out).includes(n), n);
});

test('Connection cannot remove Host, Content-Length or the forwarding headers the proxy sets (reliability C2)', () => {
  const raw = ['Host', 'a', 'Content-Length', '3', 'Connection', 'close, X-Forwarded-For, X-Real-IP, Host, Content-Length, X-Forwarded-Proto, X-Forwarded-Host'];
  const out = buildUpstreamHeaders(raw, untrusted);
  assert.deepEqual(get(out, 'host'), ['a']);
  assert.deepEqual(get(out, 'content-length'), ['3']);
  assert.deepEqual(get(out, 'x-forwarded-for'), ['203.0.113.9']);
  assert.deepEqual(get(out, 'x-real-ip'), ['203.0.113.9']);
  assert.deepEqual(get(out, 'x-forwarded-proto'), ['http']);
  // A trusted peer's other X-Forwarded-* and Forwarded may be nominated away.
  const t = buildUpstreamHeaders(['Connection', 'X-Forwarded-Port, Forwarded', 'X-Forwarded-Port', '1', 'Forwarded', 'for=x', 'X-Forwarded-Prefix', '/p'], trusted);
  assert.deepEqual(get(t, 'x-forwarded-port'), []);
  assert.deepEqual(get(t, 'forwarded'), []);
  assert.deepEqual(get(t, 'x-forwarded-prefix'), ['/p']);
});

test('websocket: only Connection: upgrade + Upgrade: websocket are sent; h2c is never an upgrade', () => {
  const ws = ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k', 'Sec-WebSocket-Version', '13'];
  assert.equal(isWebSocketUpgrade('GET', ws), true);
  const out = buildUpstreamHeaders(ws, { ...untrusted, websocket: true });
  assert.deepEqual(get(out, 'connection'), ['upgrade']);
  assert.deepEqual(get(out, 'upgrade'), ['websocket']);
  assert.deepEqual(get(out, 'sec-websocket-key'), ['k']);
  const h2c = ['Host', 'a', 'Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'h2c', 'HTTP2-Settings', 'x'];
  assert.equal(isWebSocketUpgrade('GET', h2c), false);
  assert.deepEqual(names(buildUpstreamHeaders(h2c, untrusted)).filter((n) => ['connection', 'upgrade', 'http2-settings'].includes(n)), []);
  assert.equal(isWebSocketUpgrade('POST', ws), false);
  assert.equal(isWebSocketUpgrade('GET', ['Upgrade', 'websocket']), false, 'Connection must name upgrade');
  assert.equal(isWebSocketUpgrade('GET', ['Connection', 'keep-alive, upgrade', 'upgrade', 'WebSocket']), true);
});

test('stripHopByHop: responses lose hop-by-hop and nominated headers, keep order, case and Content-Length', () => {
  const raw = ['Content-Type', 'text/plain', 'Connection', 'close, X-Internal, Content-Length', 'X-Internal', 'secret', 'Transfer-Encoding', 'chunked', 'Keep-Alive', 'timeout=5', 'Content-Length', '5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'];
  assert.deepEqual(stripHopByHop(raw), ['Content-Type', 'text/plain', 'Content-Length', '5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  assert.deepEqual(stripHopByHop(['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'x'], { websocket: true }), [
    'Sec-WebSocket-Accept', 'x', 'Connection', 'upgrade', 'Upgrade', 'websocket',
  ]);
  assert.deepEqual(stripHopByHop(['odd']), [], 'a dangling name is ignored');
});

test('stripHopByHopObject: same rules for undici-style header objects', () => {
  const out = stripHopByHopObject({ 'content-type': 'text/html', connection: ['close', 'x-a'], 'x-a': '1', 'keep-alive': 'timeout=1', 'set-cookie': ['a=1', 'b=2'], 'transfer-encoding': 'chunked', empty: undefined });
  assert.deepEqual(out, { 'content-type': 'text/html', 'set-cookie': ['a=1', 'b=2'] });
  assert.deepEqual(stripHopByHopObject({ connection: 'x-b', 'x-b': '1', 'x-c': '2' }), { 'x-c': '2' });
});

// ---- properties ----

const hopNames = [...HOP_BY_HOP_HEADERS, 'http2-settings'];
const caseVariant = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((flags) => [...s].map((c, i) => (flags[i] ? c.toUpperCase() : c)).join(''));
const hopName = fc.constantFrom(...hopNames).chain(caseVariant);
const endToEnd = fc.constantFrom('Accept', 'Cookie', 'User-Agent', 'X-Custom', 'Content-Type', 'X-Forwarded', 'Transfer', 'Te2', 'Host2', 'Authorization', 'If-None-Match').chain(caseVariant);
const header = fc.oneof(fc.tuple(hopName, fc.string()), fc.tuple(endToEnd, fc.string({ maxLength: 10 })));

test('property: no hop-by-hop name survives; every other header survives in order (both directions)', () => {
  fc.assert(
    fc.property(fc.array(header, { maxLength: 20 }), fc.boolean(), (pairs, trustedPeer) => {
      // Connection lines in `pairs` may nominate arbitrary names; exclude those from "must survive".
      const raw = pairs.flat();
      const nominated = new Set<string>();
      for (const [n, v] of pairs) if (n.toLowerCase() === 'connection') for (const t of v.split(',')) nominated.add(t.trim().toLowerCase());
      const expected = pairs.filter(([n]) => !hopNames.includes(n.toLowerCase()) && !nominated.has(n.toLowerCase())).flat();
      for (const out of [stripHopByHop(raw), buildUpstreamHeaders(raw, trustedPeer ? trusted : untrusted).slice(0, expected.length)]) {
        assert.deepEqual(out, expected);
      }
      const full = buildUpstreamHeaders(raw, trustedPeer ? trusted : untrusted);
      for (const n of names(full)) assert.ok(!hopNames.includes(n), n);
    }),
    { numRuns: 2000 },
  );
});

test('property: arbitrary header arrays never throw and always yield exactly one X-Forwarded-For and X-Real-IP', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 30 }), fc.boolean(), fc.boolean(), (raw, t, tls) => {
      const out = buildUpstreamHeaders(raw, { ...(t ? trusted : untrusted), tls });
      assert.equal(out.length % 2, 0);
      assert.equal(get(out, 'x-forwarded-for').length, 1);
      assert.deepEqual(get(out, 'x-real-ip'), [t ? '9.9.9.9' : '203.0.113.9']);
      if (!t) assert.deepEqual(get(out, 'x-forwarded-for'), ['203.0.113.9']);
      stripHopByHop(raw);
    }),
    { numRuns: 2000 },
  );
});
