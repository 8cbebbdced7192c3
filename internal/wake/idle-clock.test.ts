// The idle clock against open requests and tunnels, on a controlled clock (node:test mock
// timers drive setTimeout and Date): every step happens at an exact time, so none of these
// depends on how fast the machine is.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { WakeManager } from './index.ts';
import { ActivityLedger } from './activity-ledger.ts';
import { FakeControl, idleSpec, member, route } from './fake-control.test-support.ts';
import type { RouteSpec } from '../routes/index.ts';

const IDLE = 1000;

/** A running container `a` with idle_timeout 1s behind route `app`, on mocked timers. */
function rig(): { control: FakeControl; wake: WakeManager; app: RouteSpec; stops: () => number; done: () => void } {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1_000_000 });
  const control = new FakeControl();
  control.add({ id: 'a', state: 'running' });
  const wake = new WakeManager({ control });
  // No address needed: nothing here probes or forwards, only the clock runs.
  const app = route('app', [member('a', 'http://127.0.0.1:9', 'running', idleSpec({ idleTimeoutMs: IDLE }))]);
  wake.sync({ routes: [app] });
  return {
    control,
    wake,
    app,
    stops: () => control.calls.filter((c) => c.startsWith('stop ')).length,
    done() {
      wake.close();
      mock.timers.reset();
    },
  };
}

/** Lets the promise chains a tick started (stop → afterStop) run; setImmediate is not mocked. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

async function advance(ms: number): Promise<void> {
  mock.timers.tick(ms);
  await settle();
}

test('an open tunnel keeps its container awake across a sync that drops the container and brings it back', async () => {
  const r = rig();
  try {
    const closeTunnel = r.wake.begin('m-a'); // a websocket through the proxy: open
    // For a while the container is not in the managed picture (an older container claimed its
    // only alias, a label_filter or expose_all reload), then it is again: a new slot.
    r.wake.sync({ routes: [] });
    r.wake.sync({ routes: [r.app] });
    assert.equal(r.wake.status()[0]!.inFlight, 1, 'the new slot sees the open tunnel');
    await advance(IDLE * 10);
    assert.equal(r.stops(), 0, 'stopped while a tunnel was open');
    assert.equal(r.wake.stateOf('m-a'), 'awake');
    closeTunnel();
    await advance(IDLE - 1);
    assert.equal(r.stops(), 0, 'stopped before idle_timeout had passed since the tunnel closed');
    await advance(1);
    assert.equal(r.stops(), 1);
    assert.equal(r.wake.stateOf('m-a'), 'asleep');
  } finally {
    r.done();
  }
});

test('a tunnel that opens after the clock was armed (even 1 ms before it fires, or as a late timer fires) vetoes the stop; the count restarts at its close', async () => {
  const r = rig();
  try {
    const download = r.wake.begin('m-a');
    download(); // the clock is armed now, due at +IDLE
    await advance(IDLE - 1);
    const closeTunnel = r.wake.begin('m-a');
    await advance(IDLE * 5); // the armed timer fires, late: the tunnel is open
    assert.equal(r.stops(), 0);
    assert.equal(r.wake.status()[0]!.msUntilSleep, IDLE, 'not counting down while open');
    closeTunnel();
    assert.equal(r.wake.status()[0]!.msUntilSleep, IDLE);
    await advance(IDLE - 1);
    assert.equal(r.stops(), 0);
    await advance(1);
    assert.equal(r.stops(), 1);
  } finally {
    r.done();
  }
});

test('a sync while a tunnel is open (a Docker event) neither resets nor re-arms the clock under it', async () => {
  const r = rig();
  try {
    const closeTunnel = r.wake.begin('m-a');
    for (let i = 0; i < 5; i++) {
      r.wake.sync({ routes: [r.app] });
      await advance(IDLE);
    }
    assert.equal(r.stops(), 0);
    closeTunnel();
    closeTunnel(); // idempotent
    assert.equal(r.wake.status()[0]!.inFlight, 0);
    await advance(IDLE);
    assert.equal(r.stops(), 1);
  } finally {
    r.done();
  }
});

test('a dependency is not stopped with its last dependent while something is open on it', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1_000_000 });
  const control = new FakeControl();
  control.add({ id: 'app', state: 'running' });
  control.add({ id: 'db', state: 'running' });
  const wake = new WakeManager({ control });
  try {
    const appSpec = idleSpec({ idleTimeoutMs: IDLE, dependsOn: ['db'] });
    const dbSpec = idleSpec({ idleTimeoutMs: IDLE });
    wake.sync({ routes: [route('app', [member('app', 'http://127.0.0.1:9', 'running', appSpec)]), route('db', [member('db', 'http://127.0.0.1:9', 'running', dbSpec)])] });
    const adminTunnel = wake.begin('m-db'); // someone uses the db's own route
    await advance(IDLE * 5);
    assert.deepEqual(control.calls, ['stop app t=10 s=-'], 'the app sleeps, the db with an open tunnel does not');
    adminTunnel();
    await advance(IDLE);
    assert.deepEqual(control.calls, ['stop app t=10 s=-', 'stop db t=10 s=-']);
  } finally {
    wake.close();
    mock.timers.reset();
  }
});

test('ActivityLedger: a forgotten container keeps its record while something is open, and drops it after', () => {
  const ledger = new ActivityLedger();
  let ended = 0;
  const release = ledger.hold('c1', () => ended++);
  ledger.forget('c1');
  assert.equal(ledger.size, 1, 'kept: a tunnel is open on it');
  assert.equal(ledger.of('c1').inFlight, 1);
  release();
  release();
  assert.equal(ended, 1);
  ledger.forget('c1');
  assert.equal(ledger.size, 0);
});
