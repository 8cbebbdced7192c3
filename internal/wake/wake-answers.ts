// What the wake gate answers itself instead of proxying: the loading page, a failed wake's 503,
// the asleep 503 for requests that never wake a container (proxy.idle_ignore), and the small
// plain answers (403 outside the start endpoint, 404/405 on the reserved paths). A websocket
// upgrade has no ServerResponse, only its socket: it gets a bare status line and is closed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ContainerSlot, RouteGate } from './container-slot.ts';
import { renderLoadingPage } from './loading-page.ts';
import { shownFailure } from './log-disclosure.ts';
import { wantsJson } from './request-kind.ts';
import type { WakeError } from './wake-error.ts';

// What an ignored request (an uptime monitor) is told while the container sleeps. Nothing
// changes on its own sooner than a real visitor arrives: no reason to invite a quick retry.
const ASLEEP_RETRY_AFTER_SEC = 60;

export function isHttpResponse(res: ServerResponse | Duplex): res is ServerResponse {
  return typeof (res as Partial<ServerResponse>).writeHead === 'function';
}

/** The loading page (200 while it wakes), or the page with the failure (503 + Retry-After). */
export function writePage(gate: RouteGate, slot: ContainerSlot, res: ServerResponse, err: WakeError | undefined, showLogs: boolean): void {
  const failure = err === undefined ? undefined : shownFailure({ code: err.code, message: err.message, exitCode: err.exitCode, logs: err.logs }, showLogs);
  const html = renderLoadingPage({ title: gate.name, container: slot.name, message: `Waking ${slot.name}…`, failure });
  const headers: Record<string, string | number> = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(html),
  };
  if (err !== undefined) headers['retry-after'] = slot.retryAfterSec();
  res.writeHead(err === undefined ? 200 : 503, headers);
  res.end(html);
}

/** 503 for a failed wake: JSON if the client asked for it (never with log lines), else plain text. */
export function writeFailure(req: IncomingMessage, res: ServerResponse | Duplex, err: WakeError, slot: ContainerSlot): void {
  const retryAfter = slot.retryAfterSec();
  if (!isHttpResponse(res)) {
    if (!res.destroyed) res.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${retryAfter}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    return;
  }
  if (wantsJson(req)) {
    const body = JSON.stringify({ error: err.code, message: err.message, exit_code: err.exitCode ?? null, container: slot.name });
    writeBody(res, 503, 'application/json', body, retryAfter);
  } else {
    writePlain(res, 503, `Service Unavailable: ${err.message}\n`, retryAfter);
  }
}

/** 503 for an ignored request while asleep: `X-Bellhop-State: asleep`, no page, no wake. */
export function writeAsleep(req: IncomingMessage, res: ServerResponse | Duplex, slot: ContainerSlot): void {
  const message = `${slot.name} is asleep; requests matched by proxy.idle_ignore do not wake it`;
  if (!isHttpResponse(res)) {
    if (!res.destroyed) {
      res.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${ASLEEP_RETRY_AFTER_SEC}\r\nX-Bellhop-State: asleep\r\nCache-Control: no-store\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    }
    return;
  }
  if (res.headersSent || res.destroyed) return;
  const json = wantsJson(req);
  const body = json ? JSON.stringify({ error: 'WAKE_ASLEEP', message, container: slot.name }) : `Service Unavailable: ${message}\n`;
  res.writeHead(503, {
    'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'retry-after': String(ASLEEP_RETRY_AFTER_SEC),
    'x-bellhop-state': 'asleep',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function writePlain(res: ServerResponse | Duplex, status: number, text: string, retryAfter: number | undefined): void {
  if (!isHttpResponse(res)) {
    const reason = status === 403 ? 'Forbidden' : 'Service Unavailable';
    if (!res.destroyed) res.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    return;
  }
  writeBody(res, status, 'text/plain; charset=utf-8', text, retryAfter);
}

function writeBody(res: ServerResponse, status: number, type: string, body: string, retryAfter: number | undefined): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) };
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  res.writeHead(status, headers);
  res.end(body);
}
