// `autocert:` and the HTTPS entrypoint keys (docs/https.md): GoDoxy's block read unchanged,
// Bellhop's additions, and every mistake named by key and line before the first renewal finds it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatConfigErrors, loadConfig } from './index.ts';
import type { Config, ConfigError, LoadConfigResult } from './index.ts';

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bellhop-autocert-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function load(text: string, env: NodeJS.ProcessEnv = {}): { r: LoadConfigResult; cwd: string } {
  const cwd = join(dir, `case-${String(++n)}`);
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'config.yml'), text);
  return { r: loadConfig({ env, cwd }), cwd };
}

function ok(text: string, env: NodeJS.ProcessEnv = {}): { config: Config; cwd: string } {
  const { r, cwd } = load(text, env);
  if (!r.ok) assert.fail(`expected no errors, got:\n${formatConfigErrors(r.errors)}`);
  return { config: r.config, cwd };
}

function errs(text: string, env: NodeJS.ProcessEnv = {}): readonly ConfigError[] {
  const { r } = load(text, env);
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors;
}

describe('autocert', () => {
  it('no block: no HTTPS, whatever BELLHOP_HTTPS_ADDR says (the image sets it)', () => {
    const { config } = ok('log_level: info\n', { BELLHOP_HTTPS_ADDR: ':8443' });
    assert.equal(config.autocert, undefined);
    assert.equal(config.entrypoint.httpsAddress, undefined);
    assert.equal(config.entrypoint.redirectHttp, true);
    assert.equal(config.entrypoint.hsts, '');
  });

  it("GoDoxy's cloudflare wildcard block is read unchanged, with defaults and absolute paths", () => {
    const { config, cwd } = ok([
      'autocert:',
      '  provider: cloudflare',
      '  email: me@example.com',
      '  domains: ["example.com", "*.Example.com"]',
      '  options:',
      '    auth_token: cf-token',
    ].join('\n'));
    const a = config.autocert!;
    assert.equal(a.provider, 'cloudflare');
    assert.equal(a.email, 'me@example.com');
    assert.deepEqual(a.domains, ['example.com', '*.example.com']);
    assert.equal(a.options.authToken, 'cf-token');
    assert.equal(a.caDirUrl, 'https://acme-v02.api.letsencrypt.org/directory');
    assert.equal(a.certPath, join(cwd, 'data/certs/cert.crt'));
    assert.equal(a.keyPath, join(cwd, 'data/certs/priv.key'));
    assert.equal(a.dataDir, join(cwd, 'data/certs'));
    assert.equal(a.certificateKeyType, 'EC256');
    assert.equal(a.renewBeforeMs, 30 * 86_400_000);
    assert.deepEqual(config.entrypoint.httpsAddress, { host: undefined, port: 443 });
  });

  it("Bellhop's additions: http01 without domains, renew_before, EAB, ca_certs, extra, https/redirect/hsts", () => {
    const { config, cwd } = ok([
      'entrypoint:',
      '  https: "127.0.0.1:8443"',
      '  redirect_http: false',
      '  hsts: "max-age=31536000; includeSubDomains"',
      'autocert:',
      '  provider: http01',
      '  ca_dir_url: https://127.0.0.1:14000/dir',
      '  ca_certs: [./pebble.minica.pem]',
      '  eab_kid: kid-1',
      '  eab_hmac: aG1hYw',
      '  certificate_key_type: rsa2048',
      '  renew_before: 10d',
      '  extra:',
      '    - { cert_path: ./other.crt, key_path: ./other.key }',
      '    - { cert_path: ./dns.crt, key_path: ./dns.key, domains: ["*.lan.example.com"], provider: exec, options: { command: /hooks/dns } }',
    ].join('\n'));
    const a = config.autocert!;
    assert.deepEqual(a.domains, []);
    assert.equal(a.certificateKeyType, 'RSA2048');
    assert.equal(a.renewBeforeMs, 10 * 86_400_000);
    assert.deepEqual(a.caCerts, [join(cwd, 'pebble.minica.pem')]);
    assert.equal(a.eabKid, 'kid-1');
    assert.equal(a.extra.length, 2);
    assert.deepEqual(a.extra[0], { provider: 'http01', domains: [], certPath: join(cwd, 'other.crt'), keyPath: join(cwd, 'other.key'), options: {} });
    assert.equal(a.extra[1]!.provider, 'exec');
    assert.equal(a.extra[1]!.options.command, '/hooks/dns');
    assert.deepEqual(config.entrypoint.httpsAddress, { host: '127.0.0.1', port: 8443 });
    assert.equal(config.entrypoint.redirectHttp, false);
    assert.equal(config.entrypoint.hsts, 'max-age=31536000; includeSubDomains');
  });

  it('BELLHOP_HTTPS_ADDR overrides the file; "" turns HTTPS off', () => {
    assert.deepEqual(ok('autocert: { provider: local }\n', { BELLHOP_HTTPS_ADDR: ':8443' }).config.entrypoint.httpsAddress, { host: undefined, port: 8443 });
    assert.equal(ok('autocert: { provider: local }\n', { BELLHOP_HTTPS_ADDR: '' }).config.entrypoint.httpsAddress, undefined);
    const e = errs('autocert: { provider: local }\n', { BELLHOP_HTTPS_ADDR: 'nope' });
    assert.deepEqual(e.map((x) => [x.code, x.key]), [['CONFIG_BAD_LISTEN', 'BELLHOP_HTTPS_ADDR']]);
  });

  it('every mistake is named by key and line', () => {
    const cases: [string, string, string, number][] = [
      ['entrypoint:\n  https: ":443"\n', 'CONFIG_AUTOCERT', 'entrypoint.https', 2],
      ['autocert:\n  provider: letsencrypt\n', 'CONFIG_BAD_PROVIDER', 'autocert.provider', 2],
      ['autocert:\n  provider: cloudflare\n  domains: [example.com]\n', 'CONFIG_AUTOCERT', 'autocert.options.auth_token', 2],
      ['autocert:\n  provider: duckdns\n  domains: [x.duckdns.org]\n  options: { auth_token: t }\n', 'CONFIG_AUTOCERT', 'autocert.options.token', 4],
      ['autocert:\n  provider: http01\n  domains: ["*.example.com"]\n', 'CONFIG_AUTOCERT', 'autocert.domains', 3],
      ['autocert:\n  provider: exec\n  options: { command: /bin/hook }\n', 'CONFIG_AUTOCERT', 'autocert.domains', 2],
      ['autocert:\n  domains: [a.example.com]\n  extra:\n    - cert_path: ./b.crt\n      key_path: ./b.key\n      provider: duckdns\n      domains: [b.duckdns.org]\n', 'CONFIG_AUTOCERT', 'autocert.extra[0].options.token', 6],
      ['autocert:\n  provider: http01\n  eab_kid: k\n', 'CONFIG_AUTOCERT', 'autocert.eab_hmac', 3],
      ['autocert:\n  certificate_key_type: EC521\n', 'CONFIG_AUTOCERT', 'autocert.certificate_key_type', 2],
      ['autocert:\n  email: not-an-address\n', 'CONFIG_AUTOCERT', 'autocert.email', 2],
      ['autocert:\n  domains: ["exa mple.com"]\n', 'CONFIG_BAD_DOMAIN', 'autocert.domains[0]', 2],
      ['autocert:\n  ca_dir_url: ftp://ca\n', 'CONFIG_BAD_URL', 'autocert.ca_dir_url', 2],
      ['autocert:\n  renew_before: soon\n', 'CONFIG_BAD_DURATION', 'autocert.renew_before', 2],
      ['autocert:\n  options: { api_key: x }\n', 'CONFIG_UNKNOWN_KEY', 'autocert.options.api_key', 2],
      ['autocert:\n  extra: { cert_path: a }\n', 'CONFIG_BAD_TYPE', 'autocert.extra', 2],
      ['autocert:\n  extra:\n    - { cert_path: ./a.crt }\n', 'CONFIG_AUTOCERT', 'autocert.extra[0]', 3],
      ['entrypoint:\n  hsts: "one year"\nautocert: {}\n', 'CONFIG_BAD_TYPE', 'entrypoint.hsts', 2],
      ['entrypoint:\n  redirect_http: "yes"\n', 'CONFIG_BAD_TYPE', 'entrypoint.redirect_http', 2],
    ];
    for (const [text, code, key, line] of cases) {
      const e = errs(text);
      assert.deepEqual(e.map((x) => [x.code, x.key, x.line]), [[code, key, line]], `${text}\n${formatConfigErrors(e)}`);
    }
    // a misplaced key is pointed home
    const home = errs('entrypoint:\n  cert_path: ./x.crt\n');
    assert.match(home[0]!.message, /did you mean autocert\.cert_path\?/);
  });

  it('an empty block is local files at the default paths', () => {
    const { config, cwd } = ok('autocert:\n');
    assert.equal(config.autocert!.provider, 'local');
    assert.equal(config.autocert!.certPath, join(cwd, 'data/certs/cert.crt'));
    assert.deepEqual(config.entrypoint.httpsAddress, { host: undefined, port: 443 });
  });
});
