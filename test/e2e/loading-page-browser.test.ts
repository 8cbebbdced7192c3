// The loading page in a real browser: headless Chromium navigates to a sleeping container
// through the whole Bellhop, sees the page, watches its progress text change over the live
// event stream, and reloads by itself into the real page. Chromium cannot set Host for a
// navigation, so `<alias>.test` resolves to 127.0.0.1 (--host-resolver-rules) and Bellhop runs
// with `match_domains: [test]`.
//
// Without Chromium this test fails (it does not skip): .ci/run installs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, waitFor } from '../support/docker-test.ts';
import { startBellhop } from '../support/bellhop-harness.ts';
import { launchChromium } from '../support/chromium.ts';

const OUT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../test-output');

interface Snapshot {
  url: string;
  title: string;
  msg: string | null;
  body: string;
  nav: string;
}

test('loading page in headless Chromium: appears, shows progress, reloads into the real page', { skip: dockerSkip, timeout: 90_000 }, async (t) => {
  const docker = dockerClient();
  const name = `lp${Math.random().toString(36).slice(2, 8)}`;
  const realBody = `the real page of ${name}`;
  // httpd listens ~2.5 s after the start, so the page has progress to show before it is ready.
  const c = await runHttpd(docker, {
    start: false,
    body: realBody,
    extraShell: 'sleep 2.5 &&',
    labels: { 'proxy.aliases': name, 'proxy.idle_timeout': '1m', 'proxy.wake_timeout': '30s' },
  });
  const b = await startBellhop({ mode: 'in-process', yaml: 'match_domains: [test]' });
  const browser = await launchChromium({ hostResolverRules: 'MAP *.test 127.0.0.1' });
  try {
    await waitFor(async () => ((await b.route(name)) ? true : undefined), 10_000, `route ${name}`);
    assert.equal((await b.route(name))!.members[0]!.state, 'asleep');
    const page = await browser.newPage();
    const url = `http://${name}.test:${b.httpPort}/`;
    await page.navigate(url);

    const snap = (): Promise<Snapshot> =>
      page.evaluate<Snapshot>(`(() => {
        const m = document.getElementById('msg');
        const n = performance.getEntriesByType('navigation')[0];
        return { url: location.href, title: document.title, msg: m ? m.textContent : null,
                 body: document.body ? document.body.innerText : '', nav: n ? n.type : '' };
      })()`);

    const seen: Snapshot[] = [];
    let shot: Buffer | undefined;
    const final = await waitFor(
      async () => {
        let s: Snapshot;
        try {
          s = await snap();
        } catch {
          return undefined; // between documents during the reload
        }
        const last = seen[seen.length - 1];
        if (!last || last.title !== s.title || last.msg !== s.msg || last.body !== s.body) seen.push(s);
        const loadingTexts = new Set(seen.filter((x) => x.msg !== null).map((x) => x.msg));
        if (shot === undefined && s.msg !== null && loadingTexts.size >= 2) shot = await page.screenshot();
        return s.body.trim() === realBody ? s : undefined;
      },
      30_000,
      'the real page after the loading page',
    );
    const trail = seen.map((s) => `${s.title} | ${s.msg ?? '-'} | ${s.body.slice(0, 60).replace(/\n/g, ' ')}`).join('\n');
    t.diagnostic(`what the browser showed:\n${trail}`);

    // It was the loading page first, with our title and the progress element.
    const loading = seen.filter((s) => s.title === `${name} is starting` && s.msg !== null);
    assert.ok(loading.length > 0, `no loading page seen:\n${trail}`);
    // Its progress text changed while it waited (events from the live stream).
    const texts = [...new Set(loading.map((s) => s.msg))];
    assert.ok(texts.length >= 2, `progress text never changed: ${JSON.stringify(texts)}`);
    assert.ok(texts.some((x) => x !== null && /ready|Starting|Waiting/i.test(x)), `no progress message: ${JSON.stringify(texts)}`);
    // It reloaded by itself (no navigation from the test) into the real page at the same URL.
    assert.equal(final.url, url);
    assert.equal(final.nav, 'reload');
    assert.equal(final.title, '');
    assert.equal((await b.route(name))!.members[0]!.state, 'awake');

    assert.ok(shot, 'no screenshot of the loading page was taken');
    assert.deepEqual([...shot.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'loading-page.png'), shot);
  } finally {
    await browser.close();
    await b.stop();
    await removeQuietly(c);
  }
});
