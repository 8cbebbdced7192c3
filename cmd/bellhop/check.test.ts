import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCheck, type CheckReport } from './check.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

const VALID = `name: demo
services:
  bellhop:
    image: bellhop:local
    networks: [web]
  whoami:
    image: traefik/whoami
    deploy: { replicas: 2 }
    networks: [web]
    labels:
      proxy.aliases: whoami
      proxy.*.port: "80"
      proxy.whoami.load_balance.sticky: "true"
      proxy.whoami.load_balance.sticky_max_age: 30m
      proxy.whoami.healthcheck.path: /health
      proxy.whoami.healthcheck.interval: 2s
  sleepy:
    image: traefik/whoami
    expose: ["8080"]
    networks: [web, default]
    depends_on: { db: { condition: service_healthy } }
    labels:
      - "proxy.aliases=sleepy"
      - "proxy.idle_timeout=15m"
      - "proxy.stop_method=pause"
  db:
    image: postgres
networks:
  web: { name: web }
`;

const ERRORS = `services:
  api:
    image: nginx
    ports: ["8080:80"]
    labels:
      proxy.api.port: abc
      proxy.api.load_balance.mode: fastest
  web:
    image: nginx
    deploy: { replicas: 2 }
    expose: ["80"]
    labels:
      proxy.aliases: site
      proxy.#3.port: "80"
  ok:
    image: nginx
    expose: ["80"]
    labels: ["proxy.aliases=fine"]
  broken:
    image: nginx
    ports: ["nonsense"]
    labels: { proxy.aliases: br }
`;

const POOLS = `services:
  a:
    image: nginx
    expose: ["80"]
    deploy: { replicas: 3 }
    labels:
      proxy.aliases: api
      proxy.api.load_balance.weight: "30"
  b:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: api-b
      proxy.api-b.load_balance.link: api
  c:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: c
      proxy.c.load_balance.link: pair
      proxy.c.load_balance.weight: "30"
  d:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: d
      proxy.d.load_balance.link: pair
  host:
    image: nginx
    network_mode: host
    expose: ["9000"]
    labels: ["proxy.aliases=hostnet"]
  noport:
    image: traefik/whoami
    labels: ["proxy.aliases=guess"]
  quiet:
    image: nginx
`;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function check(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCheck(args, env, cwd, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

async function report(file: string, cwd: string): Promise<CheckReport> {
  const r = await check(['--json', file], cwd);
  return JSON.parse(r.out) as CheckReport;
}

describe('bellhop check', () => {
  const base = mkdtempSync(join(tmpdir(), 'bellhop-check-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  let n = 0;
  function folder(files: Record<string, string>): string {
    const dir = join(base, `case${String(++n)}`);
    mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  test('a valid file: routes, hosts, pool settings, replicas, weights, healthcheck and sleep; exit 0', async () => {
    const dir = folder({ 'compose.yml': VALID });
    const r = await check([], dir);
    assert.equal(r.code, 0, r.err + r.out);
    assert.equal(r.err, '');
    assert.match(r.out, /^compose\.yml: project "demo", 4 services, 5 containers$/m);
    assert.match(r.out, /^whoami {2}hosts: whoami$/m);
    assert.match(r.out, /^ {2}pool: roundrobin, sticky \(max age 30m\)$/m);
    assert.match(r.out, /^ {2}- demo-whoami-1 {2}whoami:80 {2}weight 50$/m);
    assert.match(r.out, /^ {2}- demo-whoami-2 {2}whoami:80 {2}weight 50$/m);
    assert.match(r.out, /^ {2}healthcheck: HTTP HEAD \/health every 2s \(timeout 5s, rise 2, fall 3\)$/m);
    assert.match(r.out, /^ {2}- demo-sleepy-1 {2}sleepy:8080 {2}weight 100$/m);
    assert.match(r.out, /^ {2}sleeps after 15m idle, by pause, wake timeout 3m, stop timeout 30s, wakes first: db$/m);
    assert.match(r.out, /^2 routes, 3 members, 0 errors, 0 warnings$/m);
    assert.doesNotMatch(r.out, /bellhop-1|db-1/);
  });

  test('--json gives the same facts as data', async () => {
    const dir = folder({ 'docker-compose.yaml': VALID });
    const j = await report('docker-compose.yaml', dir);
    assert.equal(j.project, 'demo');
    const whoami = j.routes.find((x) => x.name === 'whoami');
    assert.ok(whoami);
    assert.deepEqual(whoami.members.map((m) => [m.name, m.service, m.replica, m.url, m.weight]), [
      ['demo-whoami-1', 'whoami', 1, 'http://whoami:80', 50],
      ['demo-whoami-2', 'whoami', 2, 'http://whoami:80', 50],
    ]);
    assert.equal(whoami.sticky, true);
    assert.equal(whoami.stickyMaxAgeMs, 30 * 60_000);
  });

  test('label errors are located (service, container, label, problem) and exit 1; other services still route', async () => {
    const dir = folder({ 'compose.yaml': ERRORS });
    const r = await check([], dir);
    assert.equal(r.code, 1);
    assert.match(r.out, /^ {2}service api \(case\d+-api-1\): proxy\.api\.port: port "abc" is not a number \[LABEL_BAD_PORT\]$/m);
    assert.match(r.out, /^ {2}service api \(case\d+-api-1\): proxy\.api\.load_balance\.mode: .*"fastest".* \[LABEL_BAD_MODE\]$/m);
    assert.match(r.out, /service broken: services\.broken\.ports\[0\]: "nonsense" is not a port mapping/);
    // Two replicas with the same bad label: reported once for the service.
    assert.equal(r.out.match(/LABEL_ALIAS_INDEX/g)?.length, 1);
    assert.match(r.out, /^fine {2}hosts: fine$/m);
    const j = await report('compose.yaml', dir);
    // broken's ports are unreadable, but its image is nginx, whose web port (80) Bellhop knows
    assert.deepEqual(j.routes.map((x) => x.name), ['br', 'fine']);
    const bad = j.errors.find((e) => e.code === 'LABEL_BAD_PORT');
    assert.deepEqual(bad && [bad.service, bad.label], ['api', 'proxy.api.port']);
  });

  test('replicas and links: weights normalised to 100 (30 each of 3, unset share the rest), host network, unknown image ports', async () => {
    const dir = folder({ 'compose.yml': POOLS });
    const j = await report('compose.yml', dir);
    const api = j.routes.find((x) => x.name === 'api');
    assert.ok(api);
    assert.deepEqual(api.members.map((m) => [m.name, m.configuredWeight ?? null, m.weight]), [
      ['case4-a-1', 30, 30],
      ['case4-a-2', 30, 30],
      ['case4-a-3', 30, 30],
      ['case4-b-1', null, 10],
    ]);
    const pair = j.routes.find((x) => x.name === 'pair');
    assert.deepEqual(pair?.members.map((m) => m.weight), [30, 70]);
    assert.equal(j.routes.find((x) => x.name === 'hostnet')?.members[0]?.url, 'http://127.0.0.1:9000');
    // No port in the file: the image might EXPOSE one, so a warning, not an error.
    assert.deepEqual(j.errors, []);
    assert.deepEqual(j.warnings.map((w) => [w.code, w.service, w.label]), [['LABEL_NO_PORT', 'noport', 'proxy.guess.port']]);
    const r = await check(['compose.yml'], dir);
    assert.equal(r.code, 0);
    assert.match(r.out, /weight 30 \(configured 30\)/);
    assert.match(r.out, /^warnings \(1\):$/m);
  });

  test('two services claiming one alias: the first in the file keeps it, the conflict is an error', async () => {
    const dir = folder({ 'compose.yml': 'services:\n  one:\n    expose: ["80"]\n    labels: ["proxy.aliases=same"]\n  two:\n    expose: ["80"]\n    labels: ["proxy.aliases=same"]\n' });
    const j = await report('compose.yml', dir);
    assert.deepEqual(j.routes.find((x) => x.name === 'same')?.members.map((m) => m.service), ['one']);
    assert.ok(j.errors.some((e) => e.code === 'ALIAS_CONFLICT'), JSON.stringify(j.errors));
    assert.equal((await check([], dir)).code, 1);
  });

  test('match_domains and defaults come from the config file', async () => {
    const dir = folder({
      'compose.yml': 'services:\n  app:\n    expose: ["80"]\n    labels: ["proxy.aliases=app"]\n',
      'config.yml': 'match_domains: [home.example.com]\ndefaults:\n  load_balance: { mode: leastconn, sticky: true }\n',
    });
    const r = await check([], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^match domains: home\.example\.com$/m);
    assert.match(r.out, /^ {2}pool: leastconn/m);
    assert.equal((await report('compose.yml', dir)).routes.find((x) => x.name === 'app')?.sticky, true, 'defaults.load_balance.sticky, as live');
  });

  test('with autocert: which hosts get a certificate; a broken autocert block is named by key and line', async () => {
    const dir = folder({
      'compose.yml': 'services:\n  app:\n    expose: ["80"]\n    labels: ["proxy.aliases=app, app.example.org"]\n',
      'config.yml': 'match_domains: [home.example.com, lan]\nautocert:\n  provider: http01\n  email: me@example.org\n',
    });
    const r = await check([], dir);
    assert.equal(r.code, 0, r.err);
    // a single-label name ("app.lan" is fine: it has a dot; "app" alone is not a DNS name to certify)
    assert.match(r.out, /^https \(http01\): a certificate per host: app\.example\.org, app\.home\.example\.com, app\.lan$/m);
    const bad = folder({
      'compose.yml': 'services:\n  app:\n    expose: ["80"]\n    labels: ["proxy.aliases=app"]\n',
      'config.yml': 'autocert:\n  provider: cloudflare\n  domains: ["*.example.org"]\n',
    });
    const b = await check([], bad);
    assert.equal(b.code, 1);
    assert.match(b.err, /config\.yml:2 autocert\.options\.auth_token: provider cloudflare needs options\.auth_token/);
  });

  test('a bad config file is reported, the check runs on defaults, exit 1', async () => {
    const dir = folder({ 'compose.yml': 'services:\n  app:\n    expose: ["80"]\n    labels: ["proxy.aliases=app"]\n', 'config.yml': 'entrypoint: { htp: ":80" }\n' });
    const r = await check([], dir);
    assert.equal(r.code, 1);
    assert.match(r.err, /did you mean "http"/);
    assert.match(r.out, /^app {2}hosts: app$/m);
  });

  test('no labelled service: says so, exit 0', async () => {
    const dir = folder({ 'compose.yml': 'services:\n  db:\n    image: postgres\n' });
    const r = await check([], dir);
    assert.equal(r.code, 0);
    assert.match(r.out, /no routes: no service has a proxy\.\* label/);
  });

  test('unreadable, missing or non-compose files exit 2; usage errors exit 2; --help exits 0', async () => {
    const dir = folder({ 'bad.yml': 'services: [\n', 'list.yml': '- a\n' });
    const missing = await check(['nope.yml'], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read \S*nope\.yml.*\[COMPOSE_UNREADABLE\]/);
    assert.match((await check(['bad.yml'], dir)).err, /COMPOSE_YAML_SYNTAX/);
    assert.equal((await check(['list.yml'], dir)).code, 2);
    const none = await check([], dir);
    assert.equal(none.code, 2);
    assert.match(none.err, /none of compose\.yaml, compose\.yml, docker-compose\.yaml, docker-compose\.yml here/);
    assert.equal((await check(['--frobnicate'], dir)).code, 2);
    assert.equal((await check(['a.yml', 'b.yml'], dir)).code, 2);
    const help = await check(['--help'], dir);
    assert.equal(help.code, 0);
    assert.match(help.out, /^usage: bellhop check/);
  });

  test('the shipped compose.example.yml passes: a sticky pool of two and a sleeping service', async () => {
    const r = await check(['compose.example.yml'], ROOT);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^ {2}- bellhop-whoami-1 {2}whoami:80 {2}weight 50$/m);
    assert.match(r.out, /^ {2}- bellhop-whoami-2 {2}whoami:80 {2}weight 50$/m);
    assert.match(r.out, /^ {2}sleeps after 10m idle/m);
    assert.match(r.out, /0 errors, 0 warnings/);
  });

  test('healthcheck.status shows in the healthcheck line when set; a bad one is a located error', async () => {
    const dir = folder({
      'compose.yml': `services:
  api:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: api
      proxy.api.healthcheck.path: /ready
      proxy.api.healthcheck.status: "200-499, 503"
  tcp:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: tcp
      proxy.tcp.healthcheck.status: "204"
  bad:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: bad
      proxy.bad.healthcheck.status: 500-200
`,
    });
    const r = await check([], dir);
    assert.equal(r.code, 1);
    assert.match(r.out, /^ {2}healthcheck: HTTP HEAD \/ready every 5s \(status 200-499,503, timeout 5s, rise 2, fall 3\)$/m);
    // A TCP check has no status to compare, so none is shown.
    assert.match(r.out, /^ {2}healthcheck: TCP connect every 5s \(timeout 5s, rise 2, fall 3\)$/m);
    assert.match(r.out, /^ {2}service bad \(case\d+-bad-1\): proxy\.bad\.healthcheck\.status: healthcheck\.status: range "500-200" runs backwards; write 200-500 \[LABEL_BAD_STATUS\]$/m);
  });

  test('idle_ignore rules show beside the sleep settings (and in --json); a bad one is a located error', async () => {
    const dir = folder({
      'compose.yml': `services:
  wiki:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: wiki
      proxy.idle_timeout: 15m
      proxy.idle_ignore.user_agents: "Uptime-Kuma, Gatus"
      proxy.idle_ignore.from: "192.168.1.20, 10.0.5.0/24"
      proxy.idle_ignore.paths: "/health, /api/ping"
  notes:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: notes
      proxy.idle_timeout: 15m
      proxy.idle_ignore.from: 10.0.5.0/33
`,
    });
    const r = await check([], dir);
    assert.equal(r.code, 1);
    assert.match(r.out, /^ {2}sleeps after 15m idle, by stop, wake timeout 3m, stop timeout 30s, not activity, never wakes it: User-Agent contains "Uptime-Kuma" or "Gatus"; from 192\.168\.1\.20 10\.0\.5\.0\/24; path \/health \/api\/ping$/m);
    assert.match(r.out, /^ {2}service notes \(case\d+-notes-1\): proxy\.idle_ignore\.from: idle_ignore\.from: "10\.0\.5\.0\/33" is not an IP address or CIDR.*\[LABEL_BAD_CIDR\]$/m);
    const json = await report('compose.yml', dir);
    assert.deepEqual(json.routes.find((x) => x.name === 'wiki')?.members[0]?.idle?.ignore, { userAgents: ['Uptime-Kuma', 'Gatus'], from: ['192.168.1.20', '10.0.5.0/24'], paths: ['/health', '/api/ping'] });
  });

  test('a GoDoxy access-control label Bellhop cannot apply is an error naming the label (exit 1), and its route is shown as refused', async () => {
    const dir = folder({
      'compose.yml': `services:
  admin:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: admin
      proxy.admin.middlewares.crowdsec.route: crowdsec
      proxy.admin.homepage.name: Admin
  open:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: open
      proxy.open.middlewares.request.set_headers.X-A: b
      proxy.open.middlewares.cidr_whitelist: |
        allow: [10.0.0.0/8]
        priority: 1
        bypass: ["path /health"]
`,
    });
    const r = await check([], dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^errors \(1\):$/m);
    assert.match(r.out, /^ {2}service admin \(case\d+-admin-1\): proxy\.admin\.middlewares\.crowdsec\.route: middleware "crowdsec" restricts access.* \[LABEL_ACCESS_CONTROL_UNSUPPORTED\]$/m);
    assert.match(r.out, /^admin {2}hosts: admin\n {2}REFUSED \(every request gets 503 PROXY_ROUTE_REFUSED\): proxy\.admin\.middlewares\.crowdsec\.route on case\d+-admin-1/m);
    // Cosmetic fields stay warnings; the middlewares Bellhop runs are listed in run order.
    assert.match(r.out, /^warnings \(1\):$/m);
    assert.match(r.out, /^ {2}middlewares: cidr_whitelist \(priority 1; bypass path \/health\) → request \(priority 10\)$/m);
    assert.match(r.out, /^ {2}- case\d+-open-1 {2}open:80 {2}weight 100$/m);
    const j = await report('compose.yml', dir);
    assert.deepEqual(j.errors.map((e) => [e.code, e.service, e.label]), [['LABEL_ACCESS_CONTROL_UNSUPPORTED', 'admin', 'proxy.admin.middlewares.crowdsec.route']]);
    const admin = j.routes.find((x) => x.name === 'admin');
    assert.deepEqual(admin?.members, []);
    assert.deepEqual(admin?.refused?.keys, ['proxy.admin.middlewares.crowdsec.route']);
    assert.equal(j.routes.find((x) => x.name === 'open')?.refused, undefined);
    assert.deepEqual(j.routes.find((x) => x.name === 'open')?.middlewares, [{ name: 'cidr_whitelist', priority: 1, bypass: ['path /health'] }, { name: 'request', priority: 10, bypass: [] }]);
  });

  test('a mistyped middleware or option is a label error with a did-you-mean (exit 1)', async () => {
    const dir = folder({
      'compose.yml': `services:
  app:
    image: nginx
    expose: ["80"]
    labels:
      proxy.aliases: app
      proxy.app.middlewares.rate_limit.averge: "10"
`,
    });
    const r = await check([], dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /proxy\.app\.middlewares\.rate_limit\.averge: rate_limit has no option "averge" \(did you mean "average"\?\) \[LABEL_BAD_MIDDLEWARE\]/);
  });

  test('when every labelled service fails, check says so (not "no service has a proxy.* label")', async () => {
    const dir = folder({ 'compose.yml': 'services:\n  a:\n    image: x/a\n    expose: ["80"]\n    labels: { proxy.a.port: abc }\n  b:\n    image: x/b\n    labels: { proxy.idle_timeout: "10" }\n' });
    const r = await check([], dir);
    assert.equal(r.code, 1);
    assert.match(r.out, /^no routes: every labelled service has errors \(2 services with proxy\.\* labels; see below\)$/m);
    assert.doesNotMatch(r.out, /no service has a proxy/);
    const none = await check([], folder({ 'compose.yml': 'services:\n  a:\n    image: x/a\n' }));
    assert.match(none.out, /^no routes: no service has a proxy\.\* label$/m);
  });

  test('no_tls_verify is shown on the member line', async () => {
    const dir = folder({ 'compose.yml': 'services:\n  a:\n    image: x/a\n    expose: ["8443"]\n    labels: { proxy.aliases: a, proxy.a.no_tls_verify: "true" }\n  b:\n    image: x/b\n    expose: ["8443"]\n    labels: { proxy.aliases: b }\n' });
    const r = await check([], dir);
    assert.match(r.out, /^ {2}- case\d+-a-1 {2}https:\/\/a:8443 {2}weight 100, TLS not verified \(no_tls_verify\)$/m);
    assert.match(r.out, /^ {2}- case\d+-b-1 {2}https:\/\/b:8443 {2}weight 100$/m);
    assert.equal((await report('compose.yml', dir)).routes.find((x) => x.name === 'a')?.members[0]?.noTlsVerify, true);
  });

  test('the NO_PORT hint names a label that works: proxy.#N.port for an alias with a dot', async () => {
    const dir = folder({ 'compose.yml': 'services:\n  a:\n    image: x/a\n    labels: { proxy.aliases: "app.example.com, b" }\n' });
    const j = await report('compose.yml', dir);
    assert.deepEqual(j.warnings.map((w) => w.label).sort(), ['proxy.#1.port', 'proxy.b.port']);
    assert.ok(j.warnings.every((w) => !w.message.includes('proxy.app.example.com.port')), JSON.stringify(j.warnings));
  });

  test('containers GoDoxy routes without labels get a note (not an error); with docker.expose_all none', async () => {
    const files = { 'compose.yml': 'services:\n  portainer:\n    image: portainer/portainer-ce\n    expose: ["8000", "9443"]\n  db:\n    image: postgres\n  app:\n    image: x/app\n    expose: ["80"]\n    labels: { proxy.aliases: app }\n' };
    const dir = folder(files);
    const r = await check([], dir);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^differences from GoDoxy \(1; deliberate, see docs\/migrating-from-godoxy\.md\):$/m);
    assert.match(r.out, /service portainer \(case\d+-portainer-1\): GoDoxy would route it without labels \(as case\d+-portainer-1\); Bellhop routes only containers with a proxy\.\* label unless docker\.expose_all is true \[GODOXY_UNLABELLED\]/);
    const all = folder({ ...files, 'config.yml': 'docker:\n  expose_all: true\n' });
    const j = await report('compose.yml', all);
    assert.deepEqual(j.godoxy.filter((d) => d.code === 'GODOXY_UNLABELLED'), []);
    assert.equal(j.routes.find((x) => x.name === 'portainer')?.members[0]?.url, 'https://portainer:9443');
  });
});
