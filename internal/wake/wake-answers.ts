// What the wake gate answers itself instead of proxying: the loading page, a failed wake's 503,
// the asleep 503 for requests that never wake a container (proxy.idle_ignore), the 403 outside
// the start endpoint and 404/405 on the reserved paths. All but the page are Bellhop's one
// error shape (pkg/errors, docs/errors.md): JSON for clients that ask for it, else one line of
// text. A websocket upgrade has no ServerResponse, only its socket: it gets the JSON answer
// written raw, and the connection is closed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorWriter, type ErrorSendOptions } from '../../pkg/errors/index.ts';
import type { ContainerSlot, RouteGate } from './container-slot.ts';
import { renderLoadingPage } from './loading-page.ts';
import { shownFailure } from './log-disclosure.ts';
import { wantsJson } from './request-kind.ts';
import { WAKE_ERRORS, type WakeCode, type WakeError } from './wake-error.ts';

const writer = new ErrorWriter<WakeCode>(WAKE_ERRORS);

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

/**
 * A failed wake: 503 + Retry-After (the cool-down left), the failure's message, container and
 * exit code. Never its log lines: those follow wake.show_logs on the page and the status views.
 */
export function writeFailure(req: IncomingMessage, res: ServerResponse | Duplex, err: WakeError, slot: ContainerSlot): void {
  const fields = err.exitCode === undefined ? { container: slot.name } : { container: slot.name, exitCode: err.exitCode };
  writeAnswer(req, res, err.code, { message: err.message, fields, retryAfterSec: slot.retryAfterSec() });
}

/** 503 for an ignored request while asleep: `X-Bellhop-State: asleep`, no page, no wake. */
export function writeAsleep(req: IncomingMessage, res: ServerResponse | Duplex, slot: ContainerSlot): void {
  writeAnswer(req, res, 'WAKE_ASLEEP', {
    message: `${slot.name} is asleep; requests matched by proxy.idle_ignore do not wake it`,
    fields: { container: slot.name },
    retryAfterSec: ASLEEP_RETRY_AFTER_SEC,
    headers: ['X-Bellhop-State', 'asleep'],
  });
}

/** One of wake's codes with the catalogue's sentence (403 outside the start endpoint, 404/405 on reserved paths). */
export function writeAnswer(req: IncomingMessage, res: ServerResponse | Duplex, code: WakeCode, opts: Omit<ErrorSendOptions, 'format'> = {}): void {
  if (!isHttpResponse(res)) {
    if (!res.destroyed) res.end(writer.raw(code, opts), 'latin1');
    return;
  }
  writer.send(res, code, { ...opts, format: wantsJson(req) ? 'json' : 'text' });
}
