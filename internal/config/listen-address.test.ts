import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListenAddress } from './listen-address.ts';

test('listen addresses: :port, host:port, [v6]:port', () => {
  assert.deepEqual(parseListenAddress(':80'), { host: undefined, port: 80 });
  assert.deepEqual(parseListenAddress('127.0.0.1:8081'), { host: '127.0.0.1', port: 8081 });
  assert.deepEqual(parseListenAddress('[::1]:9'), { host: '::1', port: 9 });
  assert.deepEqual(parseListenAddress('bellhop.lan:80'), { host: 'bellhop.lan', port: 80 });
});

test('listen addresses: every mistake is a reason naming the address, never a throw', () => {
  assert.match(parseListenAddress('80') as string, /did you mean ":80"/);
  assert.match(parseListenAddress(':99999') as string, /outside 1-65535/);
  assert.match(parseListenAddress(':0') as string, /outside 1-65535/);
  assert.match(parseListenAddress('::1:80') as string, /brackets/);
  assert.match(parseListenAddress('[1.2.3.4]:80') as string, /not an IPv6 address/);
  assert.match(parseListenAddress('a_b:80') as string, /not a host name/);
});
