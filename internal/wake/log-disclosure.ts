// Who may see a failed wake's container logs. Logs often carry secrets (a connection string or
// token printed at startup, a stack trace with paths), and the loading page, its progress
// stream and its status JSON are served to anyone who can reach the host. `wake.show_logs`
// (docs/sleep-and-wake.md, "When it fails"): `private` (default) shows them only to clients on
// loopback, private networks or the trusted proxies' own networks; `always`; `never`.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FailureView } from './loading-page.ts';
import { clientIp as realClientIp, NO_TRUSTED_PROXIES, parseTrustedProxies, type TrustedProxies } from '../../pkg/realip/index.ts';

/** `wake.show_logs`. */
export type ShowLogs = 'always' | 'private' | 'never';

export const SHOW_LOGS_DEFAULT: ShowLogs = 'private';

/**
 * Loopback, RFC 1918, link-local, IPv6 unique-local. Not 100.64.0.0/10: carrier-grade NAT puts
 * many unrelated customers there (a VPN that uses it can be listed in trusted_proxies).
 */
const PRIVATE_NETWORKS = parseTrustedProxies([
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
]);

// Headers by which a proxy names the client it forwards. Sent by a peer Bellhop does not trust,
// they mean "I am relaying someone else", and that someone's address is unknown: the peer may be
// a reverse proxy on the LAN (a private address) relaying the whole internet.
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'cf-connecting-ip', 'true-client-ip', 'x-client-ip', 'fastly-client-ip', 'x-cluster-client-ip'];

export interface LogDisclosureOptions {
  showLogs?: ShowLogs | undefined;
  /** `entrypoint.trusted_proxies`, as written or compiled. */
  trustedProxies?: readonly string[] | TrustedProxies | undefined;
}

export class LogDisclosure {
  private showLogs: ShowLogs = SHOW_LOGS_DEFAULT;
  private trusted: TrustedProxies = NO_TRUSTED_PROXIES;

  constructor(opts: LogDisclosureOptions = {}) {
    this.configure(opts);
  }

  /** Applies a (reloaded) setting; what is not given stays. */
  configure(opts: LogDisclosureOptions): void {
    if (opts.showLogs !== undefined) this.showLogs = opts.showLogs;
    const t = opts.trustedProxies;
    if (t === undefined) return;
    if (Array.isArray(t)) {
      try {
        this.trusted = parseTrustedProxies(t as readonly string[]);
      } catch {
        // Config validated the list with the same parser; should it still fail, trust nobody
        // here: fewer clients count as private, never more.
        this.trusted = NO_TRUSTED_PROXIES;
      }
    } else {
      this.trusted = t as TrustedProxies;
    }
  }

  /**
   * May this request see container logs? `clientIp`: the real client IP the proxy worked out;
   * when the caller has none, the same pkg/realip walk over the connection and X-Forwarded-For
   * with these trusted proxies. Unknown → no, under `private`.
   */
  allows(req: IncomingMessage, clientIp: string | undefined): boolean {
    if (this.showLogs === 'always') return true;
    if (this.showLogs === 'never') return false;
    // node:http nulls req.socket once the request is done; fake requests in tests have none.
    const peer = (req.socket as Socket | null | undefined)?.remoteAddress;
    const ip = clientIp ?? realClientIp(peer, req.headers['x-forwarded-for'], this.trusted);
    if (ip === undefined || ip === '') return false;
    const peerTrusted = peer !== undefined && this.trusted.contains(peer);
    if (!peerTrusted) {
      for (const h of FORWARDING_HEADERS) if (req.headers[h] !== undefined) return false;
    }
    return PRIVATE_NETWORKS.contains(ip) || this.trusted.contains(ip);
  }
}

/**
 * A failure as one client may see it (wake.show_logs): the code, the message and the exit code
 * for everyone; the log lines only where allowed, otherwise `logsHidden` says there were some.
 * The exit code stays: a small number, already part of the message ("exited with code 3"),
 * that tells a visitor what to report without revealing what the app printed.
 */
export function shownFailure(f: FailureView, showLogs: boolean): FailureView {
  if (showLogs || f.logs === undefined) return f;
  return { code: f.code, message: f.message, exitCode: f.exitCode, logsHidden: true };
}

/** A recorded failure (`WakeFailure`, with its time) as one client may see it. */
export function failureView(f: Omit<FailureView, 'logsHidden'>, showLogs: boolean): FailureView {
  return shownFailure({ code: f.code, message: f.message, exitCode: f.exitCode, logs: f.logs }, showLogs);
}
