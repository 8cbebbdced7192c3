// Shared setup for the proxy integration tests: a proxy on 127.0.0.1:0 with a static host →
// route table, test routes with observable picks/outcomes, and a captured access log.
import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createProxyServer, type AttemptOutcome, type ProxyMember, type ProxyRoute, type ProxyServer, type ProxyTimeouts, type RequestDoneInfo, type RouteResolver } from '../../internal/proxy/index.ts';

export interface TestRoute extends ProxyRoute {
  members: ProxyMember[];
  begun: string[];
  outcomes: { member: string; outcome: AttemptOutcome }[];
  inflight: Map<string, number>;
}

export function member(id: string, origin: string): ProxyMember {
  return { id, name: id, origin, noTlsVerify: false };
}

/** Picks members in order, skipping `tried`. */
export function testRoute(name: string, members: ProxyMember[], extra: Partial<ProxyRoute> = {}): TestRoute {
  const r: TestRoute = {
    name,
    members,
    begun: [],
    outcomes: [],
    inflight: new Map(),
    pick(_ctx, tried) {
      const m = r.members.find((x) => !tried.has(x.id));
      return m === undefined ? undefined : { member: m };
    },
    begin(id) {
      r.begun.push(id);
      r.inflight.set(id, (r.inflight.get(id) ?? 0) + 1);
      let released = false;
      return (outcome) => {
        if (released) throw new Error('released twice');
        released = true;
        r.inflight.set(id, r.inflight.get(id)! - 1);
        r.outcomes.push({ member: id, outcome });
      };
    },
    ...extra,
  };
  return r;
}

export interface Harness {
  proxy: ProxyServer;
  port: number;
  routes: Map<string, ProxyRoute>;
  logLines: Record<string, unknown>[];
  done: RequestDoneInfo[];
  close(): Promise<void>;
}

export const FAST_TIMEOUTS: ProxyTimeouts = {
  headerMs: 2000, idleMs: 3000, upstreamConnectMs: 1000, upstreamResponseMs: 3000, drainMs: 2000,
};

export async function startProxy(
  routes: Record<string, ProxyRoute>, opts: { timeouts?: Partial<ProxyTimeouts>; trusted?: string[] } = {},
): Promise<Harness> {
  const logLines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const table = new Map(Object.entries(routes));
  const resolver: RouteResolver = { resolve: (host) => table.get(host) };
  const done: RequestDoneInfo[] = [];
  const proxy = createProxyServer({
    resolver: () => resolver,
    trustedProxies: opts.trusted ?? [],
    timeouts: { ...FAST_TIMEOUTS, ...opts.timeouts },
    logger,
    accessLog: true,
    onRequestDone: (i) => done.push(i),
  });
  const addr = await proxy.listen({ host: '127.0.0.1', port: 0 });
  return {
    proxy, port: addr.port, routes: table, logLines, done,
    async close() { await proxy.close(); },
  };
}

/**
 * Wait until `cond` holds (polling), or fail after `ms`. The deadline only catches a state that
 * never comes: the wait ends as soon as `cond` holds, so it is long enough for a busy machine.
 */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A port nothing listens on (bound then closed). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
