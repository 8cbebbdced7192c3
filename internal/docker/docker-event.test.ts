import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventLineParser, affectedContainer, type DockerEventMessage } from './docker-event.ts';

const ID = 'a'.repeat(64);
const ev = (Type: string, Action: string, extra: Partial<DockerEventMessage> = {}): DockerEventMessage => ({ Type, Action, Actor: { ID, Attributes: { name: 'web' } }, ...extra });

test('container lifecycle events name the container', () => {
  for (const action of ['create', 'start', 'restart', 'die', 'stop', 'destroy', 'pause', 'unpause', 'rename', 'update', 'health_status: healthy', 'health_status: unhealthy', 'health_status']) {
    assert.equal(affectedContainer(ev('container', action)), ID, action);
  }
});

test('exec_* and other noise are ignored', () => {
  for (const action of ['exec_create: /bin/sh -c true', 'exec_start: /bin/sh -c true', 'exec_die', 'attach', 'detach', 'resize', 'top', 'kill', 'oom', 'commit', 'copy', 'export', 'archive-path', 'extract-to-dir', '']) {
    assert.equal(affectedContainer(ev('container', action)), undefined, action);
  }
  assert.equal(affectedContainer(ev('image', 'pull')), undefined);
  assert.equal(affectedContainer(ev('volume', 'mount')), undefined);
  assert.equal(affectedContainer(ev('network', 'create')), undefined);
  assert.equal(affectedContainer(ev('network', 'destroy')), undefined);
});

test('network connect/disconnect name the container from its attributes', () => {
  const net = (action: string) => ({ Type: 'network', Action: action, Actor: { ID: 'netid', Attributes: { container: ID, name: 'bridge', type: 'bridge' } } });
  assert.equal(affectedContainer(net('connect')), ID);
  assert.equal(affectedContainer(net('disconnect')), ID);
  assert.equal(affectedContainer({ Type: 'network', Action: 'connect', Actor: { ID: 'n' } }), undefined, 'no container attribute');
});

test('pre-1.22 events (status/id only) are read as container events', () => {
  assert.equal(affectedContainer({ status: 'start', id: ID }), ID);
  assert.equal(affectedContainer({ status: 'exec_start: sh', id: ID }), undefined);
  assert.equal(affectedContainer({ Type: 'container', Action: 'start' }), undefined, 'no id at all');
});

test('the line parser joins chunks split anywhere and skips garbage', () => {
  const lines = [JSON.stringify(ev('container', 'start')), 'not json', '42', JSON.stringify(ev('container', 'die'))].join('\n') + '\n';
  for (let cut = 0; cut <= lines.length; cut += 7) {
    const p = new EventLineParser();
    const a = p.push(lines.slice(0, cut));
    const b = p.push(lines.slice(cut));
    assert.deepEqual([...a.events, ...b.events].map((e) => e.Action), ['start', 'die']);
    assert.equal(a.bad + b.bad, 2);
  }
});

test('a complete object without a trailing newline is accepted; a partial one waits', () => {
  const p = new EventLineParser();
  const whole = JSON.stringify(ev('container', 'start'));
  assert.equal(p.push(whole.slice(0, 20)).events.length, 0);
  assert.equal(p.push(whole.slice(20)).events.length, 1);
});

test('property: the parser never throws and finds every event however the stream is chunked', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('start', 'die', 'exec_start: x', 'destroy'), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), fc.string(), (actions, cuts, junk) => {
      const text = actions.map((a) => JSON.stringify(ev('container', a))).join('\n') + '\n';
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((x, y) => x - y);
      const p = new EventLineParser();
      const got: string[] = [];
      let prev = 0;
      for (const c of [...points, text.length]) {
        got.push(...p.push(text.slice(prev, c)).events.map((e) => e.Action ?? ''));
        prev = c;
      }
      assert.deepEqual(got, actions);
      p.push(junk + '\n'); // never throws
    }),
  );
});
