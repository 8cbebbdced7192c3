// GoDoxy compose files, read by `bellhop check` (issue 15). Each test/fixtures/godoxy/*.yml is a
// compose file written from GoDoxy's documented behaviour (its wiki, label tests and example
// compose files); its `x-godoxy.cases` say what GoDoxy does (`godoxy:`) and what Bellhop must
// give: routes with hosts, member URLs, pools, health, sleep settings and middlewares; errors
// (exactly, for the case's services); warnings and differences from GoDoxy (at least these).
// A case with `pending:` waits for work not landed yet (h2c): it runs as a todo.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse } from 'yaml';
import { checkCompose, type CheckReport, type CheckRoute } from '../../cmd/bellhop/check.ts';
import { loadConfig, parseDuration, readComposeFile } from '../../internal/config/index.ts';

const DIR = new URL('../fixtures/godoxy/', import.meta.url).pathname;

interface RouteExpect {
  hosts?: string[];
  urls?: string[];
  members?: string[];
  weights?: number[];
  mode?: string;
  sticky?: boolean;
  stickyMaxAge?: string;
  options?: { header?: string; from?: string[] } | null;
  health?: { path?: string | null; interval?: string; timeout?: string; fall?: number; rise?: number; disable?: boolean; useGet?: boolean };
  middlewares?: string[];
  refused?: boolean;
  noTlsVerify?: boolean;
  idle?: { idle?: string; wake?: string; stop?: string; method?: string; signal?: string; startEndpoint?: string; dependsOn?: string[]; noLoadingPage?: boolean } | null;
}

interface Case {
  name: string;
  godoxy: string;
  services: string[];
  routes?: Record<string, RouteExpect>;
  absent?: string[];
  errors?: string[];
  warnings?: string[];
  differences?: string[];
  /** Work not landed yet that this case waits for; the case runs as a todo until then. */
  pending?: string;
  /** The stream routes GoDoxy makes (for the streams work to assert once it lands). */
  streams?: Record<string, { protocol: string; listen: number; target: string }>;
}

interface Fixture {
  file: string;
  config: string | undefined;
  cases: Case[];
}

const tmp = mkdtempSync(join(tmpdir(), 'bellhop-godoxy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function configFrom(text: string | undefined, name: string) {
  const made = mkdtempSync(join(tmp, `${name}-`));
  if (text !== undefined) writeFileSync(join(made, 'config.yml'), text);
  const loaded = loadConfig({ env: {}, cwd: made });
  assert.ok(loaded.ok, `config of ${name}: ${JSON.stringify(loaded.ok ? '' : loaded.errors)}`);
  return loaded.config;
}

function ms(d: string): number {
  return parseDuration(d);
}

function checkRoute(r: CheckRoute, want: RouteExpect, where: string): void {
  const m0 = r.members[0];
  if (want.hosts) assert.deepEqual(r.hosts, want.hosts, `${where}: hosts`);
  if (want.urls) assert.deepEqual(r.members.map((m) => m.url), want.urls, `${where}: member URLs`);
  if (want.members) assert.deepEqual(r.members.map((m) => m.name), want.members, `${where}: members`);
  if (want.weights) assert.deepEqual(r.members.map((m) => m.weight), want.weights, `${where}: weights`);
  if (want.mode !== undefined) assert.equal(r.mode, want.mode, `${where}: mode`);
  if (want.sticky !== undefined) assert.equal(r.sticky, want.sticky, `${where}: sticky`);
  if (want.stickyMaxAge !== undefined) assert.equal(r.stickyMaxAgeMs, ms(want.stickyMaxAge), `${where}: sticky_max_age`);
  if (want.options === null) assert.equal(r.options, undefined, `${where}: no real-IP options`);
  else if (want.options) {
    if (want.options.header !== undefined) assert.equal(r.options?.header, want.options.header, `${where}: options.header`);
    if (want.options.from !== undefined) assert.deepEqual(r.options?.from, want.options.from, `${where}: options.from`);
  }
  if (want.refused !== undefined) {
    assert.equal(r.refused !== undefined, want.refused, `${where}: refused ${JSON.stringify(r.refused)}`);
    if (want.refused) assert.deepEqual(r.members, [], `${where}: a refused route has no members`);
  }
  if (want.middlewares) assert.deepEqual(r.middlewares.map((m) => m.name).sort(), [...want.middlewares].sort(), `${where}: middlewares`);
  if (want.noTlsVerify !== undefined) assert.equal(m0?.noTlsVerify, want.noTlsVerify, `${where}: no_tls_verify`);
  const h = want.health;
  if (h) {
    assert.ok(m0, `${where}: a member to read health from`);
    const hc = m0.healthcheck;
    if (h.path !== undefined) assert.equal(hc.path, h.path ?? undefined, `${where}: health path`);
    if (h.interval !== undefined) assert.equal(hc.intervalMs, ms(h.interval), `${where}: health interval`);
    if (h.timeout !== undefined) assert.equal(hc.timeoutMs, ms(h.timeout), `${where}: health timeout`);
    if (h.fall !== undefined) assert.equal(hc.fall, h.fall, `${where}: health fall`);
    if (h.rise !== undefined) assert.equal(hc.rise, h.rise, `${where}: health rise`);
    if (h.disable !== undefined) assert.equal(hc.disable, h.disable, `${where}: health disable`);
    if (h.useGet !== undefined) assert.equal(hc.useGet, h.useGet, `${where}: health use_get`);
  }
  if (want.idle === null) assert.equal(m0?.idle, undefined, `${where}: never sleeps`);
  else if (want.idle) {
    const i = m0?.idle;
    assert.ok(i, `${where}: sleep settings`);
    const w = want.idle;
    if (w.idle !== undefined) assert.equal(i.idleTimeoutMs, ms(w.idle), `${where}: idle_timeout`);
    if (w.wake !== undefined) assert.equal(i.wakeTimeoutMs, ms(w.wake), `${where}: wake_timeout`);
    if (w.stop !== undefined) assert.equal(i.stopTimeoutMs, ms(w.stop), `${where}: stop_timeout`);
    if (w.method !== undefined) assert.equal(i.stopMethod, w.method, `${where}: stop_method`);
    if (w.signal !== undefined) assert.equal(i.stopSignal, w.signal, `${where}: stop_signal`);
    if (w.startEndpoint !== undefined) assert.equal(i.startEndpoint, w.startEndpoint, `${where}: start_endpoint`);
    if (w.dependsOn !== undefined) assert.deepEqual(i.dependsOn, w.dependsOn, `${where}: depends_on`);
    if (w.noLoadingPage !== undefined) assert.equal(i.noLoadingPage, w.noLoadingPage, `${where}: no_loading_page`);
  }
}

function checkCase(report: CheckReport, c: Case): void {
  const mine = (p: { service: string | undefined }) => p.service !== undefined && c.services.includes(p.service);
  for (const [name, want] of Object.entries(c.routes ?? {})) {
    const r = report.routes.find((x) => x.name === name);
    assert.ok(r, `route ${name} missing; routes: ${report.routes.map((x) => x.name).join(', ')}; errors: ${JSON.stringify(report.errors.filter(mine))}`);
    checkRoute(r, want, name);
  }
  for (const name of c.absent ?? []) assert.ok(!report.routes.some((x) => x.name === name), `route ${name} must not exist`);
  const errors = [...new Set(report.errors.filter(mine).map((e) => e.code))].sort();
  assert.deepEqual(errors, [...new Set(c.errors ?? [])].sort(), `errors: ${JSON.stringify(report.errors.filter(mine))}`);
  const warnings = new Set(report.warnings.filter(mine).map((e) => e.code));
  for (const w of c.warnings ?? []) assert.ok(warnings.has(w), `warning ${w} missing: ${JSON.stringify(report.warnings.filter(mine))}`);
  const diffs = new Set(report.godoxy.filter(mine).map((e) => e.code));
  for (const d of c.differences ?? []) assert.ok(diffs.has(d), `difference ${d} missing: ${JSON.stringify(report.godoxy.filter(mine))}`);
  if (c.streams !== undefined) {
    for (const [name, want] of Object.entries(c.streams)) {
      const s = report.streams.find((x) => x.name === name);
      assert.ok(s, `stream ${name} missing; streams: ${report.streams.map((x) => x.name).join(', ')}; errors: ${JSON.stringify(report.errors.filter(mine))}`);
      assert.deepEqual({ protocol: s.protocol, listen: s.listen, target: s.target }, want, `stream ${name}`);
    }
  }
}

const fixtures: Fixture[] = readdirSync(DIR).filter((f) => f.endsWith('.yml')).sort().map((file) => {
  const doc = parse(readFileSync(join(DIR, file), 'utf8')) as { 'x-godoxy'?: { config?: string; cases?: Case[] } };
  const x = doc['x-godoxy'];
  assert.ok(x?.cases && x.cases.length > 0, `${file}: x-godoxy.cases`);
  return { file, config: x.config, cases: x.cases };
});

test('at least 40 cases, each with GoDoxy\'s expectation beside Bellhop\'s', () => {
  const all = fixtures.flatMap((f) => f.cases);
  assert.ok(all.length >= 40, `${String(all.length)} cases`);
  for (const c of all) {
    assert.ok(c.godoxy.length > 0 && c.services.length > 0, c.name);
    assert.ok(c.routes !== undefined || c.errors !== undefined || c.absent !== undefined || c.streams !== undefined, `${c.name}: asserts something`);
  }
});

for (const f of fixtures) {
  describe(f.file, () => {
    const config = configFrom(f.config, f.file.replace(/\.yml$/, ''));
    const report = checkCompose(readComposeFile(join(DIR, f.file), {}), config);
    for (const c of f.cases) {
      test(`${c.name} — GoDoxy: ${c.godoxy}`, c.pending !== undefined ? { todo: `waits for ${c.pending}` } : {}, () => {
        checkCase(report, c);
      });
    }
  });
}
