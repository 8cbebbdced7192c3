// undici without its index. `import … from 'undici'` runs index.js, which loads everything undici
// has, ~110 files: fetch, WebSocket, EventSource, the HTTP cache and its SQLite store, MockAgent,
// the interceptors, proxy and retry agents. Bellhop uses Pool, Agent and the request() method:
// ~30 files. Loading only those keeps ~7 MiB off the idle process
// (README, Performance). The health prober and forward_auth take them from here, through this
// module's index.ts, so this file is the one place that knows undici's file layout;
// lean-undici.test.ts checks that these are the classes undici's index exports, so an upgrade
// that moves a file fails there and not in production.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

// What undici's index does before exporting anything: request / stream / pipeline / upgrade /
// connect become methods of every dispatcher (the types declare them there).
const { prototype } = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
Object.assign(prototype, require('undici/lib/api/index.js') as object);

/** undici's Pool: a member origin's keep-alive connections. */
export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
export type Pool = Undici.Pool;
/** undici's Agent: a pool per origin (health probes). */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export type Agent = Undici.Agent;
export type { Dispatcher } from 'undici';
