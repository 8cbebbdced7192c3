// The dashboard in a real browser against the real engine: headless Chromium opens `/` on the
// admin API, sees the routes and members, sees a container started after the page loaded
// appear over the event stream (no reload), wakes a sleeping container with its "Wake now"
// button and puts it back with "Sleep now", and fits a phone's width. Screenshots go to test-output/ (dashboard.png,
// dashboard-phone.png); docs/dashboard.png is a copy of the first.
//
// Without Chromium this test fails (it does not skip): .ci/run installs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, waitFor } from '../support/docker-test.ts';
import { startBellhop } from '../support/bellhop-harness.ts';
import { launchChromium, type ChromiumPage } from '../support/chromium.ts';

const OUT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../test-output');

interface PageView {
  routes: { alias: string; text: string }[];
  containers: { name: string; text: string; wakeDisabled: boolean }[];
  live: string;
  marker: boolean;
  navigations: number;
}

const VIEW = `(() => ({
  routes: [...document.querySelectorAll('[data-route]')].map((e) => ({ alias: e.getAttribute('data-route'), text: e.innerText })),
  containers: [...document.querySelectorAll('#containers tr[data-container]')].map((e) => ({
    name: e.getAttribute('data-container'), text: e.innerText,
    wakeDisabled: e.querySelector('button[data-action=wake]').disabled })),
  live: document.getElementById('live').textContent,
  marker: window.__sameDocument === true,
  navigations: performance.getEntriesByType('navigation').length,
}))()`;

async function setViewport(page: ChromiumPage, width: number, height: number, mobile: boolean): Promise<void> {
  await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile });
}

test('dashboard in headless Chromium: routes and members, live updates, wake now, sleep now, phone width', { skip: dockerSkip, timeout: 120_000 }, async (t) => {
  const docker = dockerClient();
  const tag = Math.random().toString(36).slice(2, 8);
  const sleeper = `dsleep${tag}`;
  const later = `dlate${tag}`;
  const sleeping = await runHttpd(docker, { name: sleeper, start: false, body: 'sleeper', labels: { 'proxy.aliases': sleeper, 'proxy.idle_timeout': '10m', 'proxy.wake_timeout': '30s', 'proxy.stop_timeout': '1s' } });
  let started: Awaited<ReturnType<typeof runHttpd>> | undefined;
  const b = await startBellhop({ mode: 'in-process', yaml: 'match_domains: [test]' });
  const browser = await launchChromium();
  try {
    await waitFor(async () => ((await b.route(sleeper)) ? true : undefined), 20_000, `route ${sleeper} in /api/routes`);
    const page = await browser.newPage();
    await setViewport(page, 1100, 1300, false);
    await page.navigate(`http://127.0.0.1:${String(b.apiPort)}/`);
    const view = (): Promise<PageView> => page.evaluate<PageView>(VIEW);

    // The routes and members render, and the sleeping container has its enabled "Wake now".
    const first = await waitFor(async () => {
      const v = await view();
      const r = v.routes.find((x) => x.alias === sleeper);
      const c = v.containers.find((x) => x.name === sleeper);
      return v.live === 'live' && r && /asleep/.test(r.text) && c && !c.wakeDisabled ? v : undefined;
    }, 20_000, 'the sleeping route and its container on the page');
    const route = first.routes.find((x) => x.alias === sleeper)!;
    assert.ok(route.text.startsWith(`${sleeper}\n${sleeper} ·`), `the route shows its hosts: ${route.text}`);
    assert.match(route.text, /roundrobin/, 'the route shows its pool mode');
    assert.match(route.text, new RegExp(sleeper), 'the member is listed');
    await page.evaluate('window.__sameDocument = true');

    // A container started now appears without a reload (server-sent events).
    started = await runHttpd(docker, { name: later, body: 'later', labels: { 'proxy.aliases': later } });
    const withLater = await waitFor(async () => {
      const v = await view();
      return v.routes.some((x) => x.alias === later) ? v : undefined;
    }, 20_000, `route ${later} on the page without a reload`);
    assert.equal(withLater.marker, true, 'the page was not reloaded');
    assert.equal(withLater.navigations, 1);
    // Some traffic for the chart.
    await waitFor(async () => ((await b.get(`${later}.test`)).status === 200 ? true : undefined), 20_000, `${later} answering through the proxy`);
    for (let i = 0; i < 20; i++) await b.get(`${later}.test`);

    // "Wake now" wakes the sleeping container.
    await page.evaluate(`document.querySelector('button[data-action=wake][data-container="${sleeper}"]').click()`);
    await waitFor(async () => ((await b.route(sleeper))?.members[0]?.state === 'awake' ? true : undefined), 30_000, `${sleeper} awake after "Wake now"`);
    assert.equal((await sleeping.inspect()).State.Running, true);
    const awake = await waitFor(async () => {
      const v = await view();
      const c = v.containers.find((x) => x.name === sleeper);
      const events = await page.evaluate<string>(`document.getElementById('events').innerText`);
      return c && /awake/.test(c.text) && new RegExp(`${sleeper} woke`).test(events) ? { v, events } : undefined;
    }, 20_000, `the page showing ${sleeper} awake and the wake in the recent events`);
    assert.equal(awake.v.marker, true, 'still the same document');
    const status = await page.evaluate<string>(`document.getElementById('status').textContent`);
    assert.match(status, new RegExp(`${sleeper}: awake`));
    await waitFor(async () => ((await page.evaluate<number>(`document.querySelectorAll('#rates polyline').length`)) > 0 ? true : undefined), 20_000, 'a line in the requests/s chart');

    mkdirSync(OUT, { recursive: true });
    const shot = await page.screenshot();
    assert.deepEqual([...shot.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    writeFileSync(join(OUT, 'dashboard.png'), shot);

    // "Sleep now" puts it back to sleep (its stop_method, nothing in flight).
    await waitFor(async () => ((await page.evaluate<boolean>(`document.querySelector('button[data-action=sleep][data-container="${sleeper}"]').disabled`)) ? undefined : true), 20_000, '"Sleep now" enabled');
    // A stop is refused while the wake is still settling or a request is open (the page says
    // so); like a user, press it again until it takes.
    let pressedAt = 0;
    await waitFor(async () => {
      if ((await b.route(sleeper))?.members[0]?.state === 'asleep') return true;
      if (Date.now() - pressedAt > 3000) {
        pressedAt = Date.now();
        await page.evaluate(`document.querySelector('button[data-action=sleep][data-container="${sleeper}"]')?.click()`);
      }
      return undefined;
    }, 60_000, `${sleeper} asleep after "Sleep now"`);
    assert.equal((await sleeping.inspect()).State.Running, false);
    await waitFor(async () => (new RegExp(`${sleeper} went to sleep`).test(await page.evaluate<string>(`document.getElementById('events').innerText`)) ? true : undefined), 20_000, 'the sleep in the recent events');

    // A phone's width: nothing wider than the viewport but the tables' own scroll boxes.
    await setViewport(page, 390, 844, true);
    const overflow = await waitFor(async () => {
      const w = await page.evaluate<{ doc: number; inner: number }>('({ doc: document.documentElement.scrollWidth, inner: window.innerWidth })');
      return w.inner === 390 ? w : undefined;
    }, 10_000, 'the phone viewport');
    assert.ok(overflow.doc <= overflow.inner, `the page is wider than a phone: ${JSON.stringify(overflow)}`);
    writeFileSync(join(OUT, 'dashboard-phone.png'), await page.screenshot());
    t.diagnostic(`screenshots in ${OUT}`);
  } finally {
    await browser.close();
    await b.stop();
    await removeQuietly(sleeping);
    await removeQuietly(started);
  }
});
