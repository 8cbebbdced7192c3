// One readiness probe attempt: HTTP status on the health path, or a TCP connect. The wake loop
// repeats it; Docker's own HEALTHCHECK is read through inspect, not probed here.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

export interface HttpProbeTarget {
  url: string; // full URL incl. path
  method: 'GET' | 'HEAD';
  timeoutMs: number;
  noTlsVerify: boolean;
  /** The member's `healthcheck.status`: inclusive [low, high] ranges; default 200–399. */
  healthyStatus?: ReadonlyArray<readonly [number, number]> | undefined;
}

/** Resolves true when the server answers a healthy status (200–399 unless set) within the timeout; never rejects. */
export function probeHttp(target: HttpProbeTarget): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(ok);
    };
    const https = target.url.startsWith('https:');
    const send = https ? httpsRequest : httpRequest;
    const req = send(target.url, {
      method: target.method,
      agent: false,
      headers: { 'user-agent': 'Bellhop-wake', connection: 'close' },
      ...(https ? { rejectUnauthorized: !target.noTlsVerify } : {}),
    });
    const timer = setTimeout(() => done(false), target.timeoutMs);
    req.on('error', () => done(false));
    req.on('response', (res) => {
      res.on('error', () => undefined);
      res.resume();
      const status = res.statusCode ?? 0;
      const ranges = target.healthyStatus;
      done(ranges === undefined ? status >= 200 && status < 400 : ranges.some(([low, high]) => status >= low && status <= high));
    });
    req.end();
  });
}

/** Resolves true when a TCP connection to host:port opens within the timeout; never rejects. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}
