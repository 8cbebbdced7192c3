// One active probe against one member: an HTTP HEAD/GET to `url + path` through a dedicated
// undici Agent (internal/proxy's lean undici), or a TCP connect when the check has no path. Probes never throw: every
// failure becomes a ProbeResult with a short human reason for the admin API and logs.
import { connect as netConnect } from 'node:net';
import { undici } from '../proxy/index.ts';
import type { HealthcheckSpec } from '../routes/index.ts';
import { formatDuration } from './format-duration.ts';

const { connect: h2connect, constants: h2 } = process.getBuiltinModule('node:http2');

/** Sent with every HTTP probe so members (and Bellhop's own idle clock) can tell probes from traffic. */
export const PROBE_USER_AGENT = 'Bellhop-Health/1';

export interface ProbeResult {
  ok: boolean;
  /** e.g. 'HTTP 200 from /health', 'HTTP 500 from /health', 'connect ECONNREFUSED', 'timeout after 5s' */
  reason: string;
  latencyMs: number;
  status?: number | undefined;
}

export interface ProbeTarget {
  url: string;
  noTlsVerify: boolean;
  /** `scheme: h2c`: an HTTP probe speaks HTTP/2 with prior knowledge. */
  h2c?: boolean | undefined;
  healthcheck: HealthcheckSpec;
}

/** Turns a socket/undici error into a short reason: 'connect ECONNREFUSED', 'ECONNRESET', … */
export function describeError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; syscall?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
      return typeof e.syscall === 'string' ? `${e.syscall} ${e.code}` : e.code;
    }
    // undici wraps some socket errors; the cause names the syscall failure.
    if (e.cause) {
      const inner = describeError(e.cause);
      if (inner !== 'unknown error') return inner;
    }
    if (typeof e.message === 'string' && e.message !== '') return e.message;
  }
  return 'unknown error';
}

/** Status codes that count as healthy; 200–399 by default (docs/health.md, "What healthy means"). */
export type HealthyStatus = (status: number) => boolean;
export const defaultHealthyStatus: HealthyStatus = (s) => s >= 200 && s <= 399;

/** Whether `status` falls in one of the member's `healthcheck.status` ranges. */
export function inStatusRanges(status: number, ranges: NonNullable<HealthcheckSpec['status']>): boolean {
  return ranges.some(([low, high]) => status >= low && status <= high);
}

/**
 * Runs probes. Owns two small undici Agents (certificate checks on and off); probes send
 * `Connection: close` so no idle keep-alive socket lingers in a member between probes.
 * A member's own `healthcheck.status` decides which statuses are healthy; `healthy` is the
 * fallback for members without one.
 */
export class Prober {
  readonly #healthy: HealthyStatus;
  #verifying: undici.Agent | undefined;
  #insecure: undici.Agent | undefined;

  constructor(healthy: HealthyStatus = defaultHealthyStatus) {
    this.#healthy = healthy;
  }

  probe(target: ProbeTarget): Promise<ProbeResult> {
    const path = target.healthcheck.path;
    if (path === undefined || path === '') return this.#tcp(target);
    return target.h2c === true ? this.#h2c(target, path) : this.#http(target, path);
  }

  async close(): Promise<void> {
    const agents = [this.#verifying, this.#insecure];
    this.#verifying = this.#insecure = undefined;
    await Promise.all(agents.filter((a) => a !== undefined).map((a) => a.destroy()));
  }

  #agent(noTlsVerify: boolean): undici.Agent {
    // No per-origin cap: at most one probe per member is in flight, so the number of concurrent
    // probes to one origin is bounded by the members sharing it; a cap would queue them
    // (100 members on one host:port took seconds to be probed once with a cap of 4).
    // The probe's own timer enforces `timeout`; undici's connect timeout only backs it up.
    if (noTlsVerify) return (this.#insecure ??= new undici.Agent({ connect: { timeout: 60_000, rejectUnauthorized: false } }));
    return (this.#verifying ??= new undici.Agent({ connect: { timeout: 60_000 } }));
  }

  async #http(target: ProbeTarget, rawPath: string): Promise<ProbeResult> {
    const { timeoutMs, useGet, status } = target.healthcheck;
    const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
    const url = target.url.replace(/\/+$/, '') + path;
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    timer.unref();
    try {
      // undici's top-level request(url) does this split; the lean undici has only the method
      const u = new URL(url);
      const res = await this.#agent(target.noTlsVerify).request({
        origin: u.origin,
        path: `${u.pathname}${u.search}`,
        method: useGet ? 'GET' : 'HEAD',
        signal: controller.signal,
        reset: true,
        headers: {
          'user-agent': PROBE_USER_AGENT,
          accept: 'text/plain, application/json, */*;q=0.8',
          'cache-control': 'no-cache',
        },
      });
      const latencyMs = Math.round(performance.now() - started);
      // The verdict is the status line; the body (possibly endless) is not waited for.
      void res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const ok = status === undefined ? this.#healthy(res.statusCode) : inStatusRanges(res.statusCode, status);
      return { ok, status: res.statusCode, latencyMs, reason: `HTTP ${res.statusCode} from ${path}` };
    } catch (err) {
      const latencyMs = Math.round(performance.now() - started);
      if (timedOut) return { ok: false, latencyMs, reason: `timeout after ${formatDuration(timeoutMs)}` };
      return { ok: false, latencyMs, reason: describeError(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * An h2c member's HTTP probe: one HTTP/2 connection with prior knowledge per probe, closed
   * after the response head (probes are seconds apart; a kept session would outlive members).
   */
  #h2c(target: ProbeTarget, rawPath: string): Promise<ProbeResult> {
    const { timeoutMs, useGet, status } = target.healthcheck;
    const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
    const started = performance.now();
    return new Promise((resolve) => {
      const session = h2connect(target.url);
      let settled = false;
      const finish = (r: Omit<ProbeResult, 'latencyMs'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.destroy();
        resolve({ ...r, latencyMs: Math.round(performance.now() - started) });
      };
      const timer = setTimeout(() => finish({ ok: false, reason: `timeout after ${formatDuration(timeoutMs)}` }), timeoutMs);
      timer.unref();
      session.on('error', (err) => finish({ ok: false, reason: describeError(err) }));
      session.once('close', () => finish({ ok: false, reason: 'h2c connection closed' }));
      const stream = session.request({
        [h2.HTTP2_HEADER_METHOD]: useGet ? 'GET' : 'HEAD',
        [h2.HTTP2_HEADER_PATH]: path,
        'user-agent': PROBE_USER_AGENT,
        accept: 'text/plain, application/json, */*;q=0.8',
        'cache-control': 'no-cache',
      });
      stream.on('error', (err) => finish({ ok: false, reason: describeError(err) }));
      stream.once('response', (headers) => {
        const code = Number(headers[h2.HTTP2_HEADER_STATUS]);
        const ok = status === undefined ? this.#healthy(code) : inStatusRanges(code, status);
        finish({ ok, status: code, reason: `HTTP ${String(code)} from ${path} (h2c)` });
      });
    });
  }

  #tcp(target: ProbeTarget): Promise<ProbeResult> {
    const { timeoutMs } = target.healthcheck;
    let host: string;
    let port: number;
    try {
      const u = new URL(target.url);
      host = u.hostname.replace(/^\[|\]$/g, '');
      port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    } catch {
      return Promise.resolve({ ok: false, latencyMs: 0, reason: `bad member url ${target.url}` });
    }
    const started = performance.now();
    return new Promise((resolve) => {
      const socket = netConnect({ host, port });
      const finish = (ok: boolean, reason: string): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ ok, reason, latencyMs: Math.round(performance.now() - started) });
      };
      const timer = setTimeout(() => finish(false, `timeout after ${formatDuration(timeoutMs)}`), timeoutMs);
      timer.unref();
      socket.once('connect', () => finish(true, `TCP connect to port ${port}`));
      socket.once('error', (err) => finish(false, describeError(err)));
    });
  }
}
