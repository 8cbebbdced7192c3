// Pebble (Let's Encrypt's test ACME server) and pebble-challtestsrv (its fake DNS), from Debian's
// `pebble` package, on free loopback ports for one test file. Pebble's own HTTPS certificate is
// made here with openssl (a self-signed localhost/127.0.0.1 certificate, passed to the client
// under test as ca_certs). Pebble's VA resolves every name through challtestsrv, whose default A
// record is 127.0.0.1, and connects on `httpPort` / `tlsPort`: the ports the test's own
// challenge servers listen on. The CA root of issued certificates is regenerated per start and
// served at the management interface's /roots/0.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PebbleOptions {
  /** Port Pebble's VA uses for HTTP-01 (where the test's HTTP challenge server listens). */
  httpPort?: number;
  /** Port Pebble's VA uses for TLS-ALPN-01. */
  tlsPort?: number;
  /** kid → base64url HMAC key: external account binding required. */
  eab?: Record<string, string>;
  /** Seconds a certificate is valid (Pebble's certificateValidityPeriod). */
  validitySeconds?: number;
}

export interface Pebble {
  /** ACME directory URL. */
  readonly directoryUrl: string;
  /** Path of the PEM that Pebble's HTTPS listener chains to (give it as ca_certs). */
  readonly caCertPath: string;
  /** challtestsrv management base URL (`/set-txt`, `/clear-txt`, `/add-a`). */
  readonly challtestsrvUrl: string;
  /** Pebble's log so far. */
  log(): string;
  /** How many orders Pebble created (counted in its log). */
  orderCount(): number;
  /** PEM of the root that issued certificates chain to. */
  rootPem(): Promise<string>;
  /** POSTs JSON to challtestsrv's management API. */
  challtestsrv(path: string, body: unknown): Promise<void>;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls until `fn` gives a value (not undefined/false), or fails after `timeoutMs`. */
import { waitFor } from './docker-test.ts';
export { waitFor };

/** Why Pebble cannot run here, or undefined when it can. */
export function pebbleMissing(): string | undefined {
  for (const bin of ['pebble', 'pebble-challtestsrv', 'openssl']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (apt-get install pebble openssl)`;
  }
  return undefined;
}

function get(url: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function collect(child: ChildProcess, sink: string[]): void {
  child.stdout?.setEncoding('utf8').on('data', (c: string) => sink.push(c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => sink.push(c));
  child.on('error', (err) => sink.push(`[spawn error] ${String(err)}\n`));
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}

export async function startPebble(opts: PebbleOptions = {}): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-pebble-'));
  const caCertPath = join(dir, 'pebble-tls.crt');
  const keyPath = join(dir, 'pebble-tls.key');
  const ssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', caCertPath,
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2'], { encoding: 'utf8' });
  if (ssl.status !== 0) throw new Error(`openssl could not make Pebble's certificate: ${ssl.stderr}`);

  const [dnsPort, ctsMgmt, acmePort, mgmtPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const logs: string[] = [];
  const cts = spawn('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${ctsMgmt}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv6', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  collect(cts, logs);

  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: caCertPath,
      privateKey: keyPath,
      httpPort: opts.httpPort ?? 5002,
      tlsPort: opts.tlsPort ?? 5001,
      ocspResponderURL: '',
      externalAccountBindingRequired: opts.eab !== undefined,
      ...(opts.eab ? { externalAccountMACKeys: opts.eab } : {}),
      ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
    },
  };
  const configPath = join(dir, 'pebble-config.json');
  writeFileSync(configPath, JSON.stringify(config));
  const pebbleLog: string[] = [];
  const pebble = spawn('pebble', ['-config', configPath, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  collect(pebble, pebbleLog);

  const agent = new Agent({ ca: (await import('node:fs')).readFileSync(caCertPath, 'utf8') });
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const challtestsrvUrl = `http://127.0.0.1:${ctsMgmt}`;

  const challtestsrv = (path: string, body: unknown): Promise<void> => new Promise((resolve, reject) => {
    const req = httpRequest(`${challtestsrvUrl}${path}`, { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`challtestsrv ${path}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });

  const stop = async (): Promise<void> => {
    await Promise.all([stopChild(pebble), stopChild(cts)]);
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitFor(async () => (await get(directoryUrl, agent)).status === 200, 20_000, 'Pebble to answer its directory');
    await waitFor(async () => { await challtestsrv('/clear-txt', { host: 'ready.test.' }); return true; }, 20_000, 'challtestsrv to answer');
  } catch (err) {
    await stop();
    throw new Error(`Pebble did not start: ${(err as Error).message}\n${pebbleLog.join('')}\n${logs.join('')}`, { cause: err });
  }

  return {
    directoryUrl,
    caCertPath,
    challtestsrvUrl,
    log: () => pebbleLog.join(''),
    orderCount: () => (pebbleLog.join('').match(/Added order/g) ?? []).length,
    async rootPem() {
      const r = await get(`https://127.0.0.1:${mgmtPort}/roots/0`, agent);
      if (r.status !== 200) throw new Error(`Pebble /roots/0: HTTP ${r.status}`);
      return r.body;
    },
    challtestsrv,
    stop,
  };
}

/**
 * Writes an executable DNS-01 hook for the exec provider into `dir`: `hook present|cleanup
 * <fqdn> <value>` sets or clears the TXT record in `pebble`'s challtestsrv. Returns its path.
 */
export function writeDnsHook(dir: string, pebble: Pebble): string {
  const script = join(dir, `dns-hook-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, `#!${process.execPath}
const [action, fqdn, value] = process.argv.slice(2);
const path = action === 'present' ? '/set-txt' : '/clear-txt';
const res = await fetch(${JSON.stringify(pebble.challtestsrvUrl)} + path, { method: 'POST', body: JSON.stringify({ host: fqdn + '.', value }) });
if (!res.ok) { console.error('challtestsrv answered ' + res.status); process.exit(2); }
`, { mode: 0o755 });
  return script;
}
