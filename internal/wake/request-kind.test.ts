import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import vm from 'node:vm';
import { isBrowserNavigation, requestPath, wantsJson } from './request-kind.ts';
import { renderLoadingPage } from './loading-page.ts';

function req(method: string, headers: Record<string, string>): IncomingMessage {
  return { method, headers, url: '/' } as unknown as IncomingMessage;
}

test('only top-level GET navigations are browser navigations', () => {
  assert.equal(isBrowserNavigation(req('GET', { 'sec-fetch-mode': 'navigate', accept: '*/*' })), true);
  assert.equal(isBrowserNavigation(req('GET', { accept: 'text/html,application/xhtml+xml' })), true);
  assert.equal(isBrowserNavigation(req('GET', { accept: '*/*' })), false); // curl
  assert.equal(isBrowserNavigation(req('GET', {})), false);
  assert.equal(isBrowserNavigation(req('GET', { accept: 'text/html', 'sec-fetch-mode': 'cors' })), false); // fetch()/htmx
  assert.equal(isBrowserNavigation(req('POST', { accept: 'text/html', 'sec-fetch-mode': 'navigate' })), false);
  assert.equal(isBrowserNavigation(req('GET', { accept: 'text/html', upgrade: 'websocket' })), false);
  assert.equal(wantsJson(req('GET', { accept: 'application/json' })), true);
  assert.equal(wantsJson(req('GET', {})), false);
  assert.equal(requestPath('/a/b?x=1'), '/a/b');
  assert.equal(requestPath(undefined), '/');
  assert.equal(requestPath('http://app.example.com/health?full=1'), '/health', 'absolute-form');
  assert.equal(requestPath('http://app.example.com'), '/');
  assert.equal(requestPath('*'), '*', 'OPTIONS * names no path');
});

test('the loading page escapes names, messages and logs', () => {
  const html = renderLoadingPage({
    title: '<script>alert(1)</script>',
    container: 'c"x',
    message: 'm',
    failure: { code: 'WAKE_EXITED', message: '<b>bad</b>', exitCode: 3, logs: '</pre><img src=x onerror=alert(1)>' },
  });
  assert.doesNotMatch(html, /<script>alert/);
  assert.doesNotMatch(html, /<img src=x/);
  assert.match(html, /&#60;b&#62;bad/);
  assert.match(html, /Exit code <b>3<\/b>/);
  assert.doesNotMatch(html, /EventSource/); // a failure page does not keep polling
  const live = renderLoadingPage({ title: 'wiki', container: 'wiki-1', message: 'Waking wiki-1' });
  assert.match(live, /new EventSource\(P\+'events'\)/);
  assert.match(live, /Waking wiki-1/);
  const js = /<script>([\s\S]*)<\/script>/.exec(live)![1]!;
  assert.doesNotThrow(() => new vm.Script(js)); // the inline script at least parses
});
