// Who is asking: a person's browser navigating to a page (gets the loading page) or anything
// else (held, then proxied). GoDoxy sent its page to curl and API clients; Sablier's page was
// cached by CDNs for assets. Only a top-level GET navigation sees HTML here.
import type { IncomingMessage } from 'node:http';
import { originFormPath } from '../../pkg/http/index.ts';

/**
 * True for a top-level browser navigation: GET, no Upgrade, and `Sec-Fetch-Mode: navigate`,
 * or (from browsers that do not send Fetch metadata) `Accept` containing `text/html`. A request
 * that carries Fetch metadata with another mode (fetch(), htmx, assets) is not a navigation even
 * if it accepts HTML.
 */
export function isBrowserNavigation(req: IncomingMessage): boolean {
  if (req.method !== 'GET' || req.headers.upgrade !== undefined) return false;
  const mode = req.headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  const accept = req.headers.accept;
  return accept !== undefined && accept.includes('text/html');
}

/** The path of an origin-form request target, without the query. */
export function requestPath(url: string | undefined): string {
  // origin-form as the proxy sends it upstream (absolute-form `http://host/x?q` → `/x?q`)
  const path = originFormPath(url) ?? '/';
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** True when the client prefers JSON (for the error body of a held request). */
export function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && accept.includes('application/json');
}
