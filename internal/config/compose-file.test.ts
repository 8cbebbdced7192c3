import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ComposeFileError, parseComposeText, projectName, readComposeFile } from './index.ts';

const FILE = '/srv/My Home_Lab/compose.yml';

function parse(text: string, env: NodeJS.ProcessEnv = {}) {
  return parseComposeText(text, FILE, env);
}

function service(text: string, name = 'app') {
  const s = parse(text).services.find((x) => x.name === name);
  assert.ok(s, `service ${name}`);
  return s;
}

describe('compose file', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('project name: COMPOSE_PROJECT_NAME, else name:, else the folder, normalised like compose', () => {
    assert.equal(parse('services: { a: { image: x } }').project, 'myhome_lab');
    assert.equal(parse('name: Demo\nservices: { a: { image: x } }').project, 'demo');
    assert.equal(parse('name: Demo\nservices: { a: { image: x } }', { COMPOSE_PROJECT_NAME: 'other' }).project, 'other');
    assert.equal(projectName('__-Web.Site!'), 'website');
  });

  test('labels in map form (numbers and booleans become text, null is empty) and list form', () => {
    const m = service('services:\n  app:\n    labels:\n      proxy.app.port: 8080\n      proxy.exclude: false\n      proxy.empty:\n      proxy.app: |\n        port: 80\n');
    assert.deepEqual(m.labels, { 'proxy.app.port': '8080', 'proxy.exclude': 'false', 'proxy.empty': '', 'proxy.app': 'port: 80\n' });
    const l = service('services:\n  app:\n    labels:\n      - "proxy.aliases=a,b"\n      - proxy.x=y=z\n      - proxy.flag\n');
    assert.deepEqual(l.labels, { 'proxy.aliases': 'a,b', 'proxy.x': 'y=z', 'proxy.flag': '' });
  });

  test('bad label shapes are problems naming the service and key', () => {
    const r = parse('services:\n  app:\n    labels:\n      - 3\n      - "=v"\n  b:\n    labels: { proxy.x: [1] }\n  c:\n    labels: text\n');
    assert.deepEqual(r.problems.map((p) => [p.service, p.key]), [
      ['app', 'services.app.labels[0]'],
      ['app', 'services.app.labels[1]'],
      ['b', 'services.b.labels.proxy.x'],
      ['c', 'services.c.labels'],
    ]);
  });

  test('replicas: deploy.replicas, else scale, else 1; global mode is 1; bad counts reported', () => {
    assert.equal(service('services: { app: { deploy: { replicas: 3 }, scale: 2 } }').replicas, 3);
    assert.equal(service('services: { app: { scale: "2" } }').replicas, 2);
    assert.equal(service('services: { app: { deploy: { replicas: 0 } } }').replicas, 0);
    assert.equal(service('services: { app: { deploy: { mode: global } } }').replicas, 1);
    assert.equal(service('services: { app: { image: x } }').replicas, 1);
    const r = parse('services: { app: { deploy: { replicas: -1 } } }');
    assert.equal(r.services[0]?.replicas, 1);
    assert.equal(r.problems[0]?.key, 'services.app.deploy.replicas');
  });

  test('expose and ports: short and long syntax, ranges, host IPs; UDP ports apart (udpPorts)', () => {
    const s = service(`services:
  app:
    expose: ["3000", 3001, "4000-4002/tcp", "53/udp"]
    ports:
      - "8080:80"
      - "127.0.0.1:8443:443"
      - "[::1]:9000-9001:90-91"
      - 7000
      - "5353:53/udp"
      - { target: 6000, published: "6001", protocol: tcp }
      - { target: 6002 }
      - { target: 6003, protocol: udp }
`);
    assert.deepEqual(s.expose, [3000, 3001, 4000, 4001, 4002]);
    assert.deepEqual(s.ports, [
      { target: 80, published: 8080 },
      { target: 443, published: 8443 },
      { target: 90, published: 9000 },
      { target: 91, published: 9001 },
      { target: 7000, published: undefined },
      { target: 6000, published: 6001 },
      { target: 6002, published: undefined },
    ]);
    // a port offered only as /udp makes a UDP stream (docs/streams.md)
    assert.deepEqual(s.udpPorts, [53, 6003]);
  });

  test('malformed ports and expose entries are problems', () => {
    const r = parse('services:\n  app:\n    expose: [abc, "70000"]\n    ports: ["x:80", "1:2:3:4", { target: nope }, { target: 80, published: zz }]\n  b:\n    ports: "80"\n    expose: 80\n');
    assert.deepEqual(r.problems.map((p) => p.key), [
      'services.app.expose[0]',
      'services.app.expose[1]',
      'services.app.ports[0]',
      'services.app.ports[1]',
      'services.app.ports[2].target',
      'services.app.ports[3].published',
      'services.b.expose',
      'services.b.ports',
    ]);
  });

  test('networks: default, list and map forms, name: and external resolve to Docker names', () => {
    const top = '\nnetworks:\n  front: { name: edge }\n  shared: { external: true }\n  back: {}\n';
    assert.deepEqual(service(`name: p\nservices:\n  app: { image: x }${top}`).networks, ['p_default']);
    assert.deepEqual(service(`name: p\nservices:\n  app: { networks: [front, back] }${top}`).networks, ['edge', 'p_back']);
    assert.deepEqual(service(`name: p\nservices:\n  app: { networks: { shared: { aliases: [x] } } }${top}`).networks, ['shared']);
    const host = service('services:\n  app: { network_mode: host }');
    assert.equal(host.networkMode, 'host');
    assert.deepEqual(host.networks, []);
  });

  test('depends_on in list and map forms', () => {
    assert.deepEqual(service('services: { app: { depends_on: [db, cache] } }').dependsOn.map((d) => d.service), ['db', 'cache']);
    assert.deepEqual(service('services: { app: { depends_on: { db: { condition: service_healthy, restart: true }, cache: {} } } }').dependsOn, [
      { service: 'db', condition: 'service_healthy', restart: true },
      { service: 'cache', condition: 'service_started', restart: false },
    ]);
    assert.equal(parse('services: { app: { depends_on: db } }').problems[0]?.key, 'services.app.depends_on');
  });

  test('container_name, image, build, anchors and merge keys', () => {
    const text = 'x-common: &common\n  labels: { proxy.aliases: shared }\nservices:\n  app:\n    <<: *common\n    container_name: my-app\n    build: .\n';
    const s = service(text);
    assert.equal(s.containerName, 'my-app');
    assert.equal(s.image, 'myhome_lab-app');
    assert.deepEqual(s.labels, { 'proxy.aliases': 'shared' });
  });

  test('interpolation: ${VAR}, defaults, alternatives, $$ and required variables', () => {
    const text = 'services:\n  app:\n    labels:\n      a: ${HOST}\n      b: ${MISSING:-fallback}\n      c: ${EMPTY-kept}\n      d: ${EMPTY:-used}\n      e: $$HOME\n      f: ${HOST:+alt}\n      g: $HOST.example\n      h: ${NEED:?set NEED}\n';
    const r = parse(text, { HOST: 'web', EMPTY: '' });
    assert.deepEqual(r.services[0]?.labels, { a: 'web', b: 'fallback', c: '', d: 'used', e: '$HOME', f: 'alt', g: 'web.example', h: '' });
    assert.deepEqual(r.problems, [{ key: 'services.app.labels.h', message: 'required variable NEED is not set: set NEED' }]);
  });

  test('unusable files throw ComposeFileError with a code', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof ComposeFileError);
        return err.code;
      }
      return 'no error';
    };
    assert.equal(code(() => parse('services: [\n')), 'COMPOSE_YAML_SYNTAX');
    assert.equal(code(() => parse('- a\n- b\n')), 'COMPOSE_NOT_A_MAPPING');
    assert.equal(code(() => parse('version: "3"\n')), 'COMPOSE_NO_SERVICES');
    assert.equal(code(() => readComposeFile('/nonexistent/compose.yml')), 'COMPOSE_UNREADABLE');
    const r = parse('services:\n  app: nope\n  ok: { image: x }\n');
    assert.deepEqual(r.services.map((s) => s.name), ['ok']);
    assert.equal(r.problems[0]?.key, 'services.app');
  });

  test('readComposeFile reads .env beside the file; the environment wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bellhop-compose-'));
    dirs.push(dir);
    const folder = join(dir, 'Stack');
    mkdirSync(folder);
    writeFileSync(join(folder, '.env'), '# comment\nexport A=from-dotenv\nB="quoted # not a comment"\nC=plain # comment\nD=dotenv\n');
    writeFileSync(join(folder, 'compose.yml'), 'services:\n  app:\n    labels: [ "a=${A}", "b=${B}", "c=${C}", "d=${D}" ]\n');
    const r = readComposeFile(join(folder, 'compose.yml'), { D: 'env' });
    assert.equal(r.project, 'stack');
    assert.deepEqual(r.services[0]?.labels, { a: 'from-dotenv', b: 'quoted # not a comment', c: 'plain', d: 'env' });
  });
});
