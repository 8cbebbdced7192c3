// basic_auth (docs/middlewares.md#forward-auth-and-basic-auth), Bellhop's addition to GoDoxy's
// set: users with bcrypt hashes as `htpasswd -B` writes them ($2y$, also $2a$/$2b$), from the
// `users` option and/or an htpasswd `users_file`. Without valid credentials: 401 with a Basic
// challenge. With them the request goes on WITHOUT its Authorization header: Traefik forwards
// it unless `removeHeader: true`; here the member never sees the password (safer default).
//
// bcrypt is slow by design (cost 10 ≈ 50–100 ms), so credentials that passed are remembered
// for a short while under an HMAC with a per-middleware random key (never the password, and a
// lookup's timing says nothing about it). An unknown user costs the same bcrypt comparison as
// a known one, so timing does not tell which user names exist.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Bcrypt from 'bcryptjs';
import { sendAuthError } from './auth-errors.ts';
import { removeHeaderLines } from '../../pkg/http/index.ts';
import type { Middleware, MiddlewareDeps, MiddlewareFactory, MiddlewareProblem, MiddlewareSpec, MiddlewareVerdict, RequestFacts } from './middleware.ts';

const { createHmac, randomBytes } = process.getBuiltinModule('node:crypto');

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** bcryptjs is loaded by the first comparison: a Bellhop without basic_auth never loads it. */
let bcryptjs: Promise<typeof Bcrypt> | undefined;
const bcrypt = (): Promise<typeof Bcrypt> => (bcryptjs ??= import('bcryptjs').then((m) => m.default));

/** A hash's cost (its rounds exponent), from the shape BCRYPT checked. */
const costOf = (hash: string): number => Number(hash.slice(4, 6));
const REMEMBER_MS = 120_000;
const REMEMBER_MAX = 256;
// bcryptjs works in slices of up to 100 ms on the event loop, and every slice queued in one
// turn runs before the loop polls sockets again: a flood of wrong passwords would stall every
// other request. So at most COMPARE_ACTIVE comparisons run at once in the process, and at most
// COMPARE_QUEUED wait; beyond that the answer is 503 + Retry-After. Remembered credentials skip it.
const COMPARE_ACTIVE = 2;
const COMPARE_QUEUED = 64;
// RFC 7617 §2: user-id and password are UTF-8; Node's latin1/utf8 decoding never throws.
const BASIC = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

function problem(spec: MiddlewareSpec, option: string, message: string): MiddlewareProblem {
  return { code: 'MIDDLEWARE_BAD_OPTION', key: `${spec.key}.${option}`, message };
}

/** `users`: a YAML list of `name:hash`, or one string with entries separated by commas or newlines. */
function userEntries(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((s) => s.trim()).filter((s) => s !== '');
  return undefined;
}

/** Adds `name:hash` lines to `users`; returns what is wrong with each bad one. */
function addUsers(lines: readonly string[], users: Map<string, string>, where: string): string[] {
  const bad: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    const hash = colon < 0 ? '' : line.slice(colon + 1).trim();
    if (name === '') {
      bad.push(`${where}: ${JSON.stringify(line.slice(0, 40))} is not name:hash`);
    } else if (!BCRYPT.test(hash)) {
      bad.push(`${where}: user ${JSON.stringify(name)} has no bcrypt hash ($2y$…, made by htpasswd -B; in compose labels write $$ for each $)`);
    } else if (users.has(name)) {
      bad.push(`${where}: user ${JSON.stringify(name)} is listed twice`);
    } else {
      users.set(name, hash);
    }
  }
  return bad;
}

/** `"` and `\` would end or break the quoted realm; control characters would break the header. */
function realmProblem(realm: unknown): string | undefined {
  if (typeof realm !== 'string' || realm === '') return 'realm must be a non-empty string';
  if (/["\\\p{Cc}]/u.test(realm)) return 'realm must not contain ", \\ or control characters';
  return undefined;
}

/** A counting gate: runs at most `maxActive` tasks at once, queues `maxQueued` more, refuses the rest. */
export class CompareGate {
  readonly #maxActive: number;
  readonly #maxQueued: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(maxActive: number, maxQueued: number) {
    this.#maxActive = maxActive;
    this.#maxQueued = maxQueued;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** `task`'s result once a slot was free; undefined at once when the queue is full. */
  run<T>(task: () => Promise<T>): Promise<T> | undefined {
    if (this.#active >= this.#maxActive && this.#waiting.length >= this.#maxQueued) return undefined;
    const start = async (): Promise<T> => {
      try {
        return await task();
      } finally {
        const next = this.#waiting.shift();
        if (next === undefined) this.#active--;
        else next(); // the slot passes on: #active stays
      }
    };
    if (this.#active < this.#maxActive) {
      this.#active++;
      return start();
    }
    return new Promise<void>((resolve) => this.#waiting.push(resolve)).then(start);
  }
}

/** One gate for the process: the event loop is shared by every route. */
const compareGate = new CompareGate(COMPARE_ACTIVE, COMPARE_QUEUED);

/** One bcrypt comparison through the process-wide gate; undefined when too many wait (answer 503). */
export function compareBcrypt(password: string, hash: string): Promise<boolean> | undefined {
  return compareGate.run(async () => (await bcrypt()).compare(password, hash));
}

/** `Authorization: Basic …` → `user:password` decoded, or undefined. */
export function basicCredentials(authorization: string | undefined): { user: string; password: string; decoded: string } | undefined {
  if (authorization === undefined) return undefined;
  const m = BASIC.exec(authorization);
  if (m === null) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1), decoded };
}

const BUSY = Symbol('busy');

class BasicAuth implements Middleware {
  readonly name = 'basic_auth';
  readonly #users: ReadonlyMap<string, string>;
  /** Compared against for an unknown user: the costliest configured hash, so no name is cheaper. */
  readonly #decoy: string;
  readonly #challenge: readonly string[];
  readonly #now: () => number;
  readonly #key = randomBytes(32);
  /** HMAC of `user:password` → until when it counts as verified; insertion order = age. */
  readonly #verified = new Map<string, number>();

  constructor(users: ReadonlyMap<string, string>, realm: string, now: () => number) {
    this.#users = users;
    this.#now = now;
    let decoy = '';
    for (const hash of users.values()) if (decoy === '' || costOf(hash) > costOf(decoy)) decoy = hash;
    this.#decoy = decoy;
    this.#challenge = ['www-authenticate', `Basic realm="${realm}", charset="UTF-8"`];
  }

  async handle(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Promise<MiddlewareVerdict> {
    let ok: boolean | typeof BUSY;
    try {
      ok = await this.#check(req.headers.authorization);
    } catch {
      ok = false;
    }
    if (ok === BUSY) {
      if (!res.destroyed) sendAuthError(req, res, 'MIDDLEWARE_AUTH_BUSY', undefined, 1);
      return 'answered';
    }
    if (!ok) {
      if (!res.destroyed) sendAuthError(req, res, 'MIDDLEWARE_UNAUTHORIZED', this.#challenge);
      return 'answered';
    }
    // The member never sees the credentials (Traefik's removeHeader: true, here the default).
    removeHeaderLines(facts.upstreamHeaders, 'authorization');
    return 'continue';
  }

  async #check(authorization: string | undefined): Promise<boolean | typeof BUSY> {
    if (authorization === undefined) return false;
    const m = BASIC.exec(authorization);
    if (m === null) return false;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return false;
    const key = createHmac('sha256', this.#key).update(decoded).digest('base64');
    const now = this.#now();
    const until = this.#verified.get(key);
    if (until !== undefined) {
      if (until > now) return true;
      this.#verified.delete(key);
    }
    const hash = this.#users.get(decoded.slice(0, colon));
    // bcrypt.compare compares the computed hash in constant time; an unknown user pays the same.
    const comparing = compareGate.run(async () => (await bcrypt()).compare(decoded.slice(colon + 1), hash ?? this.#decoy));
    if (comparing === undefined) return BUSY;
    const match = await comparing;
    if (!match || hash === undefined) return false;
    if (this.#verified.size >= REMEMBER_MAX) {
      const oldest = this.#verified.keys().next();
      if (oldest.done !== true) this.#verified.delete(oldest.value);
    }
    this.#verified.set(key, now + REMEMBER_MS);
    return true;
  }
}

/** basic_auth: bcrypt users from `users` and/or an htpasswd `users_file`. */
export const basicAuth: MiddlewareFactory = {
  name: 'basic_auth',
  options: ['users', 'users_file', 'realm'],
  restrictsAccess: true,
  create(spec: MiddlewareSpec, deps: MiddlewareDeps) {
    const problems: MiddlewareProblem[] = [];
    const users = new Map<string, string>();
    const { users: listed, users_file: file, realm = 'Bellhop' } = spec.options;
    if (listed !== undefined) {
      const entries = userEntries(listed);
      if (entries === undefined) problems.push(problem(spec, 'users', 'users must be a list of "name:bcrypt-hash" entries'));
      else for (const m of addUsers(entries, users, 'users')) problems.push(problem(spec, 'users', m));
    }
    if (file !== undefined) {
      if (typeof file !== 'string' || file === '') {
        problems.push(problem(spec, 'users_file', 'users_file must be the path of an htpasswd file'));
      } else if (deps.checkOnly !== true) {
        let text: string | undefined;
        try {
          text = deps.readFile(file);
        } catch (err) {
          problems.push(problem(spec, 'users_file', `users_file ${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`));
        }
        if (text !== undefined) {
          const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
          for (const m of addUsers(lines, users, file)) problems.push(problem(spec, 'users_file', m));
        }
      }
    }
    if (listed === undefined && file === undefined) problems.push(problem(spec, 'users', 'basic_auth needs users or users_file'));
    else if (problems.length === 0 && users.size === 0 && !(deps.checkOnly === true && file !== undefined)) problems.push(problem(spec, listed !== undefined ? 'users' : 'users_file', 'basic_auth has no users'));
    const realmBad = realmProblem(realm);
    if (realmBad !== undefined) problems.push(problem(spec, 'realm', realmBad));
    if (problems.length > 0) return problems;
    return new BasicAuth(users, realm as string, () => deps.now());
  },
};
