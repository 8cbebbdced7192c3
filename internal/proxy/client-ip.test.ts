import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clientFromForwardedFor, normaliseIp, trustedProxies } from './client-ip.ts';
import { parseListenAddress } from './proxy-server.ts';
import { ProxyError } from './proxy-error.ts';
import { normaliseHost } from './host-name.ts';

test('trusted proxies: CIDRs, single addresses, IPv6, mapped IPv4; garbage is an error', () => {
  const t = trustedProxies(['10.0.0.0/8', '::1', '192.168.1.5', '::ffff:172.17.0.1', 'fd00::/8']);
  assert.equal(t.has('10.2.3.4'), true);
  assert.equal(t.has('11.0.0.1'), false);
  assert.equal(t.has('::1'), true);
  assert.equal(t.has('192.168.1.5'), true);
  assert.equal(t.has('172.17.0.1'), true);
  assert.equal(t.has('fd12::1'), true);
  assert.equal(t.has('not-an-ip'), false);
  assert.equal(trustedProxies([]).has('10.0.0.1'), false);
  assert.throws(() => trustedProxies(['nope']), /not an IP/);
  assert.throws(() => trustedProxies(['10.0.0.0/33']), /prefix/);
  assert.equal(normaliseIp('::ffff:1.2.3.4'), '1.2.3.4');
  assert.equal(normaliseIp('::1'), '::1');
});

test('X-Forwarded-For walk: rightmost untrusted, all trusted → leftmost, garbage stops the walk', () => {
  const t = trustedProxies(['10.0.0.0/8']);
  assert.equal(clientFromForwardedFor('10.0.0.1', '6.6.6.6, 9.9.9.9', t), '9.9.9.9');
  assert.equal(clientFromForwardedFor('10.0.0.1', '6.6.6.6, 10.0.0.7', t), '6.6.6.6');
  assert.equal(clientFromForwardedFor('10.0.0.1', '10.0.0.9, 10.0.0.7', t), '10.0.0.9');
  assert.equal(clientFromForwardedFor('10.0.0.1', '6.6.6.6, garbage, 10.0.0.7', t), '10.0.0.7');
  assert.equal(clientFromForwardedFor('10.0.0.1', '[2001:db8::1]:443, 1.2.3.4:80', t), '1.2.3.4');
  assert.equal(clientFromForwardedFor('10.0.0.1', '[2001:db8::1]:443,, 10.0.0.2', t), '2001:db8::1');
  assert.equal(clientFromForwardedFor('10.0.0.1', '::ffff:5.5.5.5', t), '5.5.5.5');
  fc.assert(fc.property(fc.string(), (s) => typeof clientFromForwardedFor('10.0.0.1', s, t) === 'string'));
});

test('listen addresses, hosts and errors', () => {
  assert.deepEqual(parseListenAddress(':80'), { host: undefined, port: 80 });
  assert.deepEqual(parseListenAddress('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListenAddress('[::1]:81'), { host: '::1', port: 81 });
  assert.throws(() => parseListenAddress('80'), /host:port/);
  assert.throws(() => parseListenAddress(':70000'), /host:port/);
  const e = new ProxyError('PROXY_NO_MEMBER', 'pool empty', { cause: new Error('x') });
  assert.equal(e.status, 503);
  assert.equal(e.code, 'PROXY_NO_MEMBER');
  assert.match(e.message, /pool empty/);
  assert.equal(normaliseHost('App.Example.COM.:8080'), 'app.example.com');
  assert.equal(normaliseHost('[::1]:80'), '[::1]');
  assert.equal(normaliseHost('[::1'), undefined);
  assert.equal(normaliseHost('[zz]'), undefined);
  assert.equal(normaliseHost('[::1]x'), undefined);
  assert.equal(normaliseHost('a b'), undefined);
  fc.assert(fc.property(fc.string(), (s) => { normaliseHost(s); return true; }));
});
