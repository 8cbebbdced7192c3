import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientIpByRule, parseTrustedProxies, NO_TRUSTED_PROXIES, type ClientIpRule } from './index.ts';

const rule = (over: Partial<ClientIpRule> = {}): ClientIpRule => ({ name: 'real_ip', header: 'X-Real-IP', headerLower: 'x-real-ip', from: parseTrustedProxies(['10.0.0.0/8']), recursive: false, ...over });
const trusted = parseTrustedProxies(['192.168.1.2']);

test('clientIpByRule: applies only from its own peers and with the header present', () => {
  assert.equal(clientIpByRule('10.0.0.1', ['X-Real-IP', '6.6.6.6'], rule(), trusted), '6.6.6.6');
  assert.equal(clientIpByRule('::ffff:10.0.0.1', ['x-real-ip', '6.6.6.6'], rule(), trusted), '6.6.6.6');
  assert.equal(clientIpByRule('8.8.8.8', ['X-Real-IP', '6.6.6.6'], rule(), trusted), undefined, 'a peer outside from is not believed');
  assert.equal(clientIpByRule('10.0.0.1', ['X-Forwarded-For', '6.6.6.6'], rule(), trusted), undefined, 'no header: the entrypoint rule decides');
  assert.equal(clientIpByRule('garbage', ['X-Real-IP', '6.6.6.6'], rule(), trusted), undefined);
});

test('clientIpByRule: not recursive takes the rightmost; recursive skips from; garbage ends the walk', () => {
  const xff = rule({ header: 'X-Forwarded-For', headerLower: 'x-forwarded-for' });
  assert.equal(clientIpByRule('10.0.0.1', ['X-Forwarded-For', '6.6.6.6, 10.0.0.7'], xff, trusted), '10.0.0.7');
  const rec = rule({ header: 'X-Forwarded-For', headerLower: 'x-forwarded-for', recursive: true });
  assert.equal(clientIpByRule('10.0.0.1', ['X-Forwarded-For', '6.6.6.6', 'X-Forwarded-For', '9.9.9.9, 10.0.0.7'], rec, trusted), '9.9.9.9');
  assert.equal(clientIpByRule('10.0.0.1', ['X-Forwarded-For', '10.0.0.3, 10.0.0.7'], rec, trusted), '10.0.0.3', 'all in from: the leftmost');
  assert.equal(clientIpByRule('10.0.0.1', ['X-Forwarded-For', '6.6.6.6, unknown'], rec, trusted), '10.0.0.1', 'garbage first: the peer');
});

test('clientIpByRule: without from, the entrypoint trusted_proxies decide whose header is believed', () => {
  const noFrom = rule({ from: undefined });
  assert.equal(clientIpByRule('192.168.1.2', ['X-Real-IP', '6.6.6.6'], noFrom, trusted), '6.6.6.6');
  assert.equal(clientIpByRule('10.0.0.1', ['X-Real-IP', '6.6.6.6'], noFrom, trusted), undefined);
  assert.equal(clientIpByRule('192.168.1.2', ['X-Real-IP', '6.6.6.6'], noFrom, NO_TRUSTED_PROXIES), undefined, 'no trusted proxies: never believed');
});
