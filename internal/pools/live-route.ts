// One live route: the route's persistent pkg/balance Pool, adapted with health and wake to the
// proxy's narrow ProxyRoute interface. LiveRoutes (live-routes.ts) keeps one per route name
// across route-table swaps and applies a new spec only when it changed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Pool, stripStickyCookie, type BalanceMember, type MemberUsability } from '../../pkg/balance/index.ts';
import type { AttemptOutcome, Pick, PickContext, ProxyMember, ProxyRoute } from '../proxy/index.ts';
import { compileRealIpOptions, realIpFromOptions, type RealIpOptions } from '../../pkg/realip/index.ts';
import type { RouteSpec, MemberSpec, RealIpOptionsSpec } from '../routes/index.ts';
import { compileChain, DEFAULT_MIDDLEWARE_DEPS, sendMiddlewareError, type MiddlewareChain, type MiddlewareDeps, type MiddlewareProblem } from '../middleware/index.ts';
import type { AccessLogHandle, AccessLogSpec } from '../accesslog/index.ts';
import { RECREATE_GRACE_MS } from './recreate-grace.ts';
import { samePlainData } from './same-route-spec.ts';

/** What pools need from health: a fast usability check and passive outcomes. */
export interface HealthGate {
  isUsable(memberId: string): boolean;
  /** `trial`: what `attempt` returned for this request (0 or absent: not a trial). */
  report(memberId: string, outcome: AttemptOutcome, trial?: number): void;
  /** A request is being sent to the member; a half-open member's first is its one trial (token > 0). */
  attempt?(memberId: string): number;
  /** The trial request ended with no verdict on the member (client gone, client's own fault). */
  abandon?(memberId: string, trial: number): void;
}

/** What pools need from wake (only for members of containers that can sleep). */
export interface WakeGate {
  isUsable(memberId: string): boolean;
  /** `req`: the request that passed gate(), so proxy.idle_ignore can leave it out of the idle clock. */
  begin(memberId: string, req?: IncomingMessage): (outcome?: unknown) => void;
  upstreamUrl(memberId: string, fallback: string): string;
  gate(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: { route: string; preferMember?: (() => string | undefined) | undefined; clientIp?: string | undefined },
  ): 'proceed' | 'handled' | Promise<'proceed' | 'handled'>;
  /** Sleep state of a member's container (undefined: not managed). */
  stateOf?(memberId: string): string | undefined;
  /** Starts a wake in the background; never rejects. */
  ensureAwake?(memberId: string): Promise<unknown>;
}

/**
 * In a pool with sleeping members, another one is woken in the background once every awake
 * member has this many requests in flight: load needs it (docs/sleep-and-wake.md). One at a time.
 */
export const LOAD_WAKE_IN_FLIGHT = 8;

export interface LiveRoutesOptions {
  health: HealthGate;
  wake?: WakeGate | undefined;
  stickySecret: Uint8Array;
  /**
   * Origins no member uses any more: the proxy closes their connection pools. `dead` holds those
   * whose Docker member stopped or went away (no address, or no longer in the table): nothing
   * can answer there any more, so requests still waiting on them should be aborted and routed
   * again rather than left to hang on a bridge address nobody answers.
   */
  onOriginsGone?: ((origins: string[], dead: ReadonlySet<string>) => void) | undefined;
  retryAfterSec?: number | undefined;
  /** Clock and file reader for middlewares (docs/middlewares.md); default: Date.now and the file system. */
  middlewareDeps?: MiddlewareDeps | undefined;
  /**
   * A route's middlewares could not be built (options only checkable at start, a throwing
   * factory): the route answers 503 MIDDLEWARE_UNAVAILABLE instead of serving without them.
   * `problems` empty: they can be built again (a later spec). Also called when a middleware throws.
   */
  onMiddlewareProblems?: ((route: string, problems: readonly MiddlewareProblem[], err?: unknown) => void) | undefined;
  /**
   * Opens a route's `access_log` (internal/accesslog's AccessLogs.open). When it throws (the file
   * cannot be opened) the route serves without it and `onAccessLogFailed` says why.
   */
  openAccessLog?: ((spec: AccessLogSpec) => AccessLogHandle) | undefined;
  onAccessLogFailed?: ((route: string, err: unknown) => void) | undefined;
  /**
   * How long a request waits for a Docker route that just lost every addressed member (a
   * container recreate: die → destroy → create → start) before it gets 503 + Retry-After.
   * Default 10 s; 0 disables the hold.
   */
  recreateHoldMs?: number | undefined;
  /** A route counts as "just lost its members" for this long after the loss (default 60 s). */
  recreateGraceMs?: number | undefined;
  /**
   * Upper bound of `awaitMember` (Docker routes): how long a request whose only member just
   * refused or reset waits for the route table to catch up (Docker's die event) before it gets
   * the 502. Default 3 s; 0 disables.
   */
  memberWaitMs?: number | undefined;
  now?: (() => number) | undefined;
}

/** Default wait for a request to a route in a recreate gap. */
export const RECREATE_HOLD_MS = 10_000;
/** Default upper bound of LiveRoute.awaitMember. */
export const MEMBER_WAIT_MS = 3_000;
const HOLD_POLL_MS = 20;

interface LiveMember extends BalanceMember {
  spec: MemberSpec;
  proxy: ProxyMember;
  sleeps: boolean;
}

/** Status the proxy records when the client went away before the response ended. */
const CLIENT_GONE = 499;

function canSleep(m: MemberSpec): boolean {
  return (m.container?.idle?.idleTimeoutMs ?? 0) > 0;
}

function isCompose(spec: RouteSpec): boolean {
  return spec.members.some((m) => m.container?.composeService !== undefined);
}

/**
 * An iphash pool's `load_balance.options`, compiled; undefined for other modes or no options.
 * Config and labels have validated them already; should pkg/realip still refuse an entry (its
 * address syntax is stricter), the pool hashes the client IP rather than fail the table swap.
 */
function compileOptions(spec: RouteSpec): RealIpOptions | undefined {
  const o: RealIpOptionsSpec | undefined = spec.loadBalance.options;
  if (spec.loadBalance.mode !== 'iphash' || o === undefined) return undefined;
  try {
    return compileRealIpOptions(o);
  } catch {
    return undefined;
  }
}

function toLiveMember(spec: MemberSpec): LiveMember {
  return {
    id: spec.id,
    identity: spec.identity,
    name: spec.name,
    weight: spec.weight,
    spec,
    proxy: { id: spec.id, name: spec.name, origin: spec.url, noTlsVerify: spec.noTlsVerify, pipelining: spec.noPipelining !== true, ...(spec.h2c === true ? { h2c: true } : {}) },
    sleeps: canSleep(spec),
  };
}

/** A route as the proxy sees it, backed by a persistent pkg/balance Pool. */
export class LiveRoute implements ProxyRoute {
  readonly name: string;
  readonly pool: Pool<LiveMember>;
  spec: RouteSpec;
  retryAfterSec: number;
  gate?: NonNullable<ProxyRoute['gate']>;
  upstreamCookie?: NonNullable<ProxyRoute['upstreamCookie']>;
  /** The proxy passes peer and raw headers only to routes that hash from them. */
  pickReadsHeaders = false;
  /** The refused route's message (RouteSpec.refused): the proxy answers it, never a member. */
  refusal: string | undefined;
  /** The route's middleware chain (docs/middlewares.md); absent when it has none (no per-request cost). */
  middleware?: NonNullable<ProxyRoute['middleware']>;
  /** The route's real_ip / cloudflare_real_ip, applied by the proxy before any middleware (docs/client-ip.md). */
  clientIpRule: ProxyRoute['clientIpRule'];
  private chain: MiddlewareChain | undefined;
  /** The route's access log hook (docs/access-log.md); absent when it has none. */
  accessLog?: NonNullable<ProxyRoute['accessLog']>;
  private accessLogHandle: AccessLogHandle | undefined;
  /** Compiled `load_balance.options` of an iphash pool (docs/client-ip.md); undefined: hash ctx.clientIp. */
  private realIp: RealIpOptions | undefined;
  private byId = new Map<string, LiveMember>();
  /** Some members can sleep, and some can't or others are awake: background waking applies. */
  private hasSleepers = false;
  private readonly opts: LiveRoutesOptions;
  /** When this Docker route last went from "some member has an address" to "none has". */
  private lostAt: number | undefined;
  /** Dropped from the table: held requests stop waiting. */
  private retired = false;

  constructor(spec: RouteSpec, opts: LiveRoutesOptions) {
    this.name = spec.name;
    this.spec = spec;
    this.opts = opts;
    this.retryAfterSec = opts.retryAfterSec ?? 5;
    const usability: MemberUsability = { isUsable: (id) => this.isUsable(id) };
    this.pool = new Pool<LiveMember>({ name: spec.name, mode: spec.loadBalance.mode, usability });
    this.update(spec);
  }

  /** Applies a new spec for the same route name; member state (counters, RR position) survives. */
  update(spec: RouteSpec): void {
    const hadAddress = this.spec.members.some((m) => m.url !== '');
    const hasAddress = spec.members.some((m) => m.url !== '');
    // Only compose services are recreated under the same route (RecreateGrace keeps the same
    // set): a plain container that dies answers 503 at once instead of making clients wait.
    if (spec.source === 'docker' && hadAddress && !hasAddress && isCompose(this.spec)) this.lostAt = (this.opts.now ?? Date.now)();
    // Docker routes are updated on every member change: compile the options only when they
    // (or the mode) changed. The constructor's first call sees this.spec === spec.
    const prev = this.spec;
    if (prev === spec || prev.loadBalance.mode !== spec.loadBalance.mode || !samePlainData(prev.loadBalance.options, spec.loadBalance.options)) {
      this.realIp = compileOptions(spec);
      this.pickReadsHeaders = this.realIp !== undefined;
    }
    this.spec = spec;
    const sticky = spec.loadBalance.sticky ? { secret: this.opts.stickySecret, maxAgeMs: spec.loadBalance.stickyMaxAgeMs } : undefined;
    this.pool.configure({ mode: spec.loadBalance.mode, sticky });
    const members = spec.members.map(toLiveMember);
    this.byId = new Map(members.map((m) => [m.id, m]));
    this.hasSleepers = members.length > 1 && members.some((m) => m.sleeps);
    this.pool.setMembers(members);
    this.refusal = spec.refused?.message;
    const wake = this.opts.wake;
    if (this.refusal !== undefined) {
      // A refused route has no members to wake or hold for.
      delete this.gate;
    } else if (wake && members.some((m) => m.sleeps)) {
      // Sleeping members are the wake module's business: it starts them and holds requests.
      // In a pool the request wakes the member it would be sent to (sticky cookie, iphash).
      const name = spec.name;
      this.gate = (req, res, pickCtx) => wake.gate(req, res, { route: name, clientIp: pickCtx.clientIp, preferMember: () => this.wouldPick(pickCtx) });
    } else if (spec.source === 'docker' && (this.opts.recreateHoldMs ?? RECREATE_HOLD_MS) > 0) {
      this.gate = (_req, res) => this.recreateHold(res);
    } else {
      delete this.gate;
    }
    if (spec.loadBalance.sticky) this.upstreamCookie = stripStickyCookie;
    else delete this.upstreamCookie;
    // rebuilt only when the middlewares changed: a rate limit keeps its buckets across member changes
    if (prev === spec || !samePlainData(prev.middlewares, spec.middlewares)) this.compileMiddleware(spec);
    if (prev === spec || !samePlainData(prev.accessLog, spec.accessLog)) this.openAccessLog(spec);
  }

  /** (Re)opens the route's access log; the old one closes (its file stays open while another log uses it). */
  private openAccessLog(spec: RouteSpec): void {
    const old = this.accessLogHandle;
    this.accessLogHandle = undefined;
    delete this.accessLog;
    const open = this.opts.openAccessLog;
    if (spec.accessLog !== undefined && open !== undefined) {
      try {
        this.accessLogHandle = open(spec.accessLog);
        this.accessLog = this.accessLogHandle.hook;
      } catch (err) {
        this.opts.onAccessLogFailed?.(spec.name, err);
      }
    }
    if (old !== undefined) void old.close().catch((err: unknown) => this.opts.onAccessLogFailed?.(spec.name, err));
  }

  /** Compiles the spec's middlewares; closes the previous chain. Fails closed: a chain that cannot be built answers 503. */
  private compileMiddleware(spec: RouteSpec): void {
    this.chain?.close();
    this.chain = undefined;
    this.clientIpRule = undefined;
    const specs = spec.middlewares ?? [];
    if (specs.length === 0 || spec.refused !== undefined) {
      delete this.middleware;
      return;
    }
    const report = this.opts.onMiddlewareProblems;
    const name = spec.name;
    const compiled = compileChain(specs, this.opts.middlewareDeps ?? DEFAULT_MIDDLEWARE_DEPS, {
      onFailure: (err, mw) => report?.(name, [{ code: 'MIDDLEWARE_FAILED', key: mw, message: `middleware ${mw} failed` }], err),
    });
    const chain = compiled.chain;
    if (chain === undefined) {
      report?.(name, compiled.problems);
      const message = `This service is refused: its middlewares could not be set up (${compiled.problems.map((p) => p.key).join(', ')})`;
      this.middleware = (_req, res) => {
        sendMiddlewareError(res, 'MIDDLEWARE_UNAVAILABLE', { message });
        return 'answered';
      };
      return;
    }
    this.chain = chain;
    this.clientIpRule = chain.clientIpRule;
    this.middleware = (req, res, facts) => chain.handle(req, res, facts);
  }

  /** Middleware names in run order (admin API). */
  middlewareNames(): readonly string[] {
    return this.chain?.names ?? [];
  }

  /**
   * A request for a route in a recreate gap (it lost its last addressed member within the grace
   * period and nothing is usable) waits until a member is usable or the hold ends; then it is
   * proxied, or gets the normal 503 + Retry-After. Outside a gap this costs one scan.
   */
  private recreateHold(res: ServerResponse): 'proceed' | Promise<'proceed' | 'handled'> {
    const now = this.opts.now ?? Date.now;
    const lostAt = this.lostAt;
    if (lostAt === undefined) return 'proceed';
    if (this.hasUsable()) {
      this.lostAt = undefined;
      return 'proceed';
    }
    if (now() - lostAt >= (this.opts.recreateGraceMs ?? RECREATE_GRACE_MS)) {
      this.lostAt = undefined;
      return 'proceed';
    }
    const deadline = now() + (this.opts.recreateHoldMs ?? RECREATE_HOLD_MS);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onClose = (): void => {
        if (timer) clearTimeout(timer);
        resolve('handled');
      };
      const tick = (): void => {
        if (this.retired || this.hasUsable() || now() >= deadline) {
          res.off('close', onClose);
          resolve('proceed');
          return;
        }
        timer = setTimeout(tick, HOLD_POLL_MS);
      };
      res.once('close', onClose);
      tick();
    });
  }

  /**
   * A request's only member(s) just refused or reset the connection. On a Docker route that is
   * usually a container that died a moment ago, before its die event reached the table: wait
   * (up to memberWaitMs) until something changed that makes a new try worthwhile: another
   * member became usable, a tried member left, lost its address, became unusable or moved to a
   * new address, or the route left the table. The proxy then routes the request again (the
   * recreate hold, the new member, 503). Nothing changed in time: false, the client gets the 502.
   */
  awaitMember(tried: ReadonlySet<string>, signal: AbortSignal): Promise<boolean> {
    const limit = this.opts.memberWaitMs ?? MEMBER_WAIT_MS;
    if (this.spec.source !== 'docker' || limit <= 0 || signal.aborted) return Promise.resolve(false);
    const origins = new Map<string, string>();
    for (const id of tried) origins.set(id, this.originOf(id));
    const changed = (): boolean => {
      if (this.retired) return true;
      for (const m of this.spec.members) if (!tried.has(m.id) && this.isUsable(m.id)) return true;
      for (const [id, origin] of origins) if (!this.isUsable(id) || this.originOf(id) !== origin) return true;
      return false;
    };
    if (changed()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let poll: NodeJS.Timeout | undefined;
      const end = (v: boolean): void => {
        clearTimeout(poll);
        clearTimeout(deadline);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAbort = (): void => end(false);
      const tick = (): void => {
        if (changed()) end(true);
        else poll = setTimeout(tick, HOLD_POLL_MS);
      };
      const deadline = setTimeout(() => end(changed()), limit);
      signal.addEventListener('abort', onAbort, { once: true });
      poll = setTimeout(tick, HOLD_POLL_MS);
    });
  }

  /** The address the proxy would use for a member now ('' when none or unknown). */
  private originOf(id: string): string {
    const m = this.byId.get(id);
    if (!m) return '';
    return m.sleeps && this.opts.wake ? this.opts.wake.upstreamUrl(id, m.spec.url) : m.proxy.origin;
  }

  /** The route left the table: requests held for it are released (they get 503). */
  retire(): void {
    this.retired = true;
    this.chain?.close();
    const h = this.accessLogHandle;
    this.accessLogHandle = undefined;
    delete this.accessLog;
    if (h !== undefined) void h.close().catch((err: unknown) => this.opts.onAccessLogFailed?.(this.name, err));
  }

  /** Is any member usable right now? */
  hasUsable(): boolean {
    for (const m of this.spec.members) if (this.isUsable(m.id)) return true;
    return false;
  }

  /**
   * The address iphash hashes: the pool's own real-IP options read from the request when set
   * (and the proxy passed the request's headers), else the trusted-proxy client IP.
   */
  private hashIp(ctx: PickContext): string {
    const o = this.realIp;
    if (o === undefined || ctx.rawHeaders === undefined) return ctx.clientIp;
    return realIpFromOptions(ctx.peerIp, ctx.rawHeaders, o) ?? ctx.clientIp;
  }

  /** The member this request would get if every member were awake (for waking a pool member). */
  wouldPick(ctx: PickContext): string | undefined {
    const usability = { isUsable: (id: string) => this.byId.has(id) };
    const clientIp = this.realIp === undefined ? ctx.clientIp : this.hashIp(ctx);
    if (this.pool.sticky) {
      return this.pool.pickSticky({ clientIp, cookieHeader: ctx.cookieHeader, secure: ctx.secure, now: Date.now(), usability }).member?.id;
    }
    return this.pool.pick({ clientIp, usability })?.id;
  }

  isUsable(id: string): boolean {
    const m = this.byId.get(id);
    if (!m) return false;
    if (m.sleeps && this.opts.wake) {
      if (!this.opts.wake.isUsable(id)) return false;
      // A container woken from sleep is listed without an address (Docker has none for a stopped
      // container) until discovery re-syncs; the wake module learnt the new one at the start.
      if (this.opts.wake.upstreamUrl(id, m.spec.url) === '') return false;
    } else if (m.proxy.origin === '') {
      return false;
    }
    return this.opts.health.isUsable(id);
  }

  pick(ctx: PickContext, tried: ReadonlySet<string>): Pick | undefined {
    let member: LiveMember | undefined;
    let setCookie: string | undefined;
    const clientIp = this.realIp === undefined ? ctx.clientIp : this.hashIp(ctx);
    if (this.pool.sticky) {
      const r = this.pool.pickSticky({ clientIp, cookieHeader: ctx.cookieHeader, secure: ctx.secure, now: Date.now() }, tried);
      member = r.member;
      setCookie = r.setCookie;
    } else {
      member = this.pool.pick({ clientIp }, tried);
    }
    if (!member) {
      // Nothing usable, but a member sleeps (the awake one is unhealthy, say): wake it, so the
      // pool recovers instead of answering 503 until the broken member heals.
      if (this.hasSleepers) this.wakeOneAsleep();
      return undefined;
    }
    if (this.hasSleepers) this.wakeMoreIfLoaded();
    let proxy = member.proxy;
    if (member.sleeps && this.opts.wake) {
      // A woken container may have a new address; the wake module knows the current one.
      const origin = this.opts.wake.upstreamUrl(member.id, member.spec.url);
      if (origin !== proxy.origin) proxy = member.proxy = { ...proxy, origin };
    }
    return setCookie === undefined ? { member: proxy } : { member: proxy, setCookie };
  }

  private wakeOneAsleep(): void {
    const wake = this.opts.wake;
    if (wake?.ensureAwake === undefined || wake.stateOf === undefined) return;
    let asleep: string | undefined;
    for (const m of this.byId.values()) {
      if (!m.sleeps) continue;
      const state = wake.stateOf(m.id);
      if (state === 'waking') return; // one at a time
      if (state === 'asleep') asleep ??= m.id;
    }
    if (asleep !== undefined) void wake.ensureAwake(asleep);
  }

  private wakeMoreIfLoaded(): void {
    const wake = this.opts.wake;
    if (wake?.ensureAwake === undefined || wake.stateOf === undefined) return;
    let asleep: string | undefined;
    for (const m of this.byId.values()) {
      if (this.isUsable(m.id)) {
        if (this.pool.inFlight(m.id) < LOAD_WAKE_IN_FLIGHT) return;
      } else if (m.sleeps) {
        const state = wake.stateOf(m.id);
        if (state === 'waking') return; // one at a time
        if (state === 'asleep') asleep ??= m.id;
      }
    }
    if (asleep !== undefined) void wake.ensureAwake(asleep);
  }

  begin(memberId: string, req?: IncomingMessage): (outcome: AttemptOutcome) => void {
    const release = this.pool.acquire(memberId);
    const m = this.byId.get(memberId);
    const wakeRelease = m?.sleeps && this.opts.wake ? this.opts.wake.begin(memberId, req) : undefined;
    const health = this.opts.health;
    const trial = health.attempt?.(memberId) ?? 0;
    let done = false;
    return (outcome) => {
      if (done) return;
      done = true;
      release();
      wakeRelease?.(outcome);
      // A client that gave up (499), or whose request was at fault (408 slow body, 400), says
      // nothing about the member: neither a failure nor a success that would reset a hanging
      // member's failure count.
      if (outcome.status !== CLIENT_GONE && outcome.noVerdict !== true) health.report(memberId, outcome, trial);
      else if (trial !== 0) health.abandon?.(memberId, trial);
    };
  }

  /** Members with their configured and normalised weights, for the admin API. */
  describe() {
    return this.pool.describe();
  }
}
