// YAML text → draft config + every problem found, each with its key path and line: the top-level
// sections (entrypoint, api, docker, match_domains, defaults, sticky, wake, log_level) here,
// `autocert:` in read-autocert.ts,
// `routes:` in read-routes.ts, the YAML walking and value checks in entry-reader.ts.
import { LineCounter, parseDocument } from 'yaml';
import { isDomainName } from '../routes/index.ts';
import type { CidrValidator } from './cidr.ts';
import type { Draft } from './config-draft.ts';
import { ConfigError } from './config-error.ts';
import { KEYS } from './config-keys.ts';
import type { LogLevel } from './config-types.ts';
import type { SwarmSetting } from './config-types.ts';
import { LOG_LEVELS } from './defaults.ts';
import { normaliseDomain } from './domain-name.ts';
import { EntryReader, type Entry, type Value } from './entry-reader.ts';
import { readAutocert } from './read-autocert.ts';
import { readEntrypointMiddlewares } from './read-middlewares.ts';
import { readAccessLog } from './read-access-log.ts';
import { readRoutes } from './read-routes.ts';
import { closest } from './suggest.ts';

// `key` or `key=value`: a Docker label name has no whitespace, '=' or control characters.
function checkLabelFilter(s: string): string | undefined {
  return /^[^\s=]+(=[^\r\n]*)?$/.test(s) ? undefined : `${JSON.stringify(s)} is not a label filter (want "key" or "key=value")`;
}

const DOCKER_HOST = /^(unix|npipe|tcp|ssh|http|https):\/\/./;

// `name:hash` with a bcrypt hash (htpasswd -nbB writes $2y$, bcryptjs $2b$); docs/configuration.md#api.
const USER = /^([^:\s]+):(\$2[aby]\$\d\d\$[./A-Za-z0-9]{53})$/;

function checkUser(s: string): string | undefined {
  if (USER.test(s)) return undefined;
  const name = s.split(':')[0] ?? '';
  if (!s.includes(':') || name === '') return 'expected "name:$2y$…" (a user name, a colon and a bcrypt hash, e.g. from `htpasswd -nbB name password`)';
  return `the password of ${JSON.stringify(name)} is not a bcrypt hash ($2a$, $2b$ or $2y$ and 53 more characters); plain passwords are refused`;
}

/** `api.auth: { token_file, users }`; an empty block turns nothing on. */
function readApiAuth(reader: EntryReader, auth: Entry, draft: Draft): void {
  const out: NonNullable<Draft['apiAuth']> = { tokenFile: undefined, users: [] };
  for (const e of reader.map(auth.value, 'api.auth', KEYS.apiAuth, 'token_file: /run/secrets/bellhop-api-token') ?? []) {
    if (e.key === 'token_file') {
      const v = reader.string(e, 'api.auth.token_file', 'a file path');
      if (v === '') reader.fail('CONFIG_BAD_PATH', 'api.auth.token_file', 'must not be empty', reader.valueNode(e));
      else if (v !== undefined) out.tokenFile = v;
    } else {
      const list = reader.stringList(e, 'api.auth.users', checkUser, 'CONFIG_BAD_USER');
      for (const u of list ?? []) {
        const m = USER.exec(u)!;
        out.users.push({ name: m[1]!, hash: m[2]! });
      }
    }
  }
  if (out.tokenFile !== undefined || out.users.length > 0) draft.apiAuth = out;
}

function readTop(reader: EntryReader, root: Value, draft: Draft): void {
  const top = reader.map(root, '', KEYS.top, 'e.g. "entrypoint:" and "routes:"');
  if (top === undefined) return;
  const by = new Map(top.map((e) => [e.key, e]));
  const get = (k: string): Entry | undefined => by.get(k);
  const ep = get('entrypoint');
  const httpsKey = ep ? readEntrypoint(reader, ep, draft) : undefined;
  const api = get('api');
  if (api) {
    for (const e of reader.map(api.value, 'api', KEYS.api, 'listen: "127.0.0.1:8081"') ?? []) {
      if (e.key === 'auth') {
        readApiAuth(reader, e, draft);
        continue;
      }
      const v = reader.listen(e, 'api.listen', true);
      if (v !== undefined) draft.apiListen = v;
    }
  }
  const docker = get('docker');
  if (docker) readDocker(reader, docker, draft);
  const md = get('match_domains');
  if (md) {
    const list = reader.stringList(md, 'match_domains', (s) => (isDomainName(normaliseDomain(s)) ? undefined : `${JSON.stringify(s)} is not a domain name (e.g. "home.example.com")`), 'CONFIG_BAD_DOMAIN');
    if (list) draft.matchDomains = [...new Set(list.map(normaliseDomain))];
  }
  const defaults = get('defaults');
  if (defaults) readDefaults(reader, defaults, draft);
  const sticky = get('sticky');
  if (sticky) {
    for (const e of reader.map(sticky.value, 'sticky', KEYS.sticky, 'secret_file: ./data/sticky.key') ?? []) {
      const v = reader.string(e, 'sticky.secret_file', 'a file path');
      if (v === '') reader.fail('CONFIG_BAD_PATH', 'sticky.secret_file', 'must not be empty', reader.valueNode(e));
      else if (v !== undefined) draft.secretFile = v;
    }
  }
  const wake = get('wake');
  if (wake) {
    for (const e of reader.map(wake.value, 'wake', KEYS.wake, 'show_logs: private') ?? []) {
      const v = reader.showLogs(e, 'wake.show_logs');
      if (v !== undefined) draft.wakeShowLogs = v;
    }
  }
  const autocert = get('autocert');
  if (autocert) readAutocert(reader, autocert, draft);
  if (httpsKey !== undefined && !autocert) {
    reader.fail('CONFIG_AUTOCERT', 'entrypoint.https', 'HTTPS needs certificates: add an autocert block (e.g. "autocert: { provider: http01, email: you@example.com }", see docs/https.md)', httpsKey);
  }
  const level = get('log_level');
  if (level) {
    const v = reader.string(level, 'log_level', `a level (${LOG_LEVELS.join(', ')})`);
    if (v !== undefined) {
      const l = checkLogLevel(v);
      if (typeof l === 'string') draft.logLevel = l;
      else reader.fail('CONFIG_BAD_LOG_LEVEL', 'log_level', l.problem, reader.valueNode(level));
    }
  }
  const routes = get('routes');
  if (routes) readRoutes(reader, routes, draft);
}

/** Reads `entrypoint:`; returns the key node of a non-empty `https` (it needs `autocert`). */
function readEntrypoint(reader: EntryReader, ep: Entry, draft: Draft): Value {
  let httpsKey: Value;
  for (const e of reader.map(ep.value, 'entrypoint', KEYS.entrypoint, 'http: ":80"') ?? []) {
    if (e.key === 'http') {
      const v = reader.listen(e, 'entrypoint.http', false);
      if (v !== undefined) draft.http = v;
    } else if (e.key === 'https') {
      const v = reader.listen(e, 'entrypoint.https', true);
      if (v !== undefined) draft.https = v;
      if (v !== undefined && v !== '') httpsKey = e.keyNode;
    } else if (e.key === 'redirect_http') {
      const v = reader.bool(e, 'entrypoint.redirect_http');
      if (v !== undefined) draft.redirectHttp = v;
    } else if (e.key === 'hsts') {
      const v = reader.string(e, 'entrypoint.hsts', 'a Strict-Transport-Security value like "max-age=31536000"');
      if (v !== undefined && v.trim() !== '' && !/^max-age=\d+(\s*;\s*(includeSubDomains|preload))*\s*$/i.test(v.trim())) {
        reader.fail('CONFIG_BAD_TYPE', 'entrypoint.hsts', `${JSON.stringify(v)} is not a Strict-Transport-Security value (e.g. "max-age=31536000; includeSubDomains")`, reader.valueNode(e));
      } else if (v !== undefined) draft.hsts = v.trim();
    } else if (e.key === 'trusted_proxies') {
      const v = reader.stringList(e, 'entrypoint.trusted_proxies', reader.cidr, 'CONFIG_BAD_CIDR');
      if (v) draft.trustedProxies = v;
    } else if (e.key === 'middlewares') {
      const v = readEntrypointMiddlewares(reader, e);
      if (v !== undefined) draft.entrypointMiddlewares = v;
    } else if (e.key === 'access_log') {
      if (!reader.isNull(e.value)) draft.entrypointAccessLog = readAccessLog(reader, e, 'entrypoint.access_log');
    } else {
      for (const t of reader.map(e.value, 'entrypoint.timeouts', KEYS.timeouts, 'header: 10s') ?? []) {
        const ms = reader.duration(t, `entrypoint.timeouts.${t.key}`, { timer: true });
        if (ms === undefined) continue;
        const field = ({ header: 'headerMs', idle: 'idleMs', upstream_connect: 'upstreamConnectMs', upstream_response: 'upstreamResponseMs', drain: 'drainMs' } as const)[t.key as (typeof KEYS.timeouts)[number]];
        draft.timeouts[field] = ms;
      }
    }
  }
  return httpsKey;
}

function readDocker(reader: EntryReader, d: Entry, draft: Draft): void {
  for (const e of reader.map(d.value, 'docker', KEYS.docker, 'hosts: ["unix:///var/run/docker.sock"]') ?? []) {
    if (e.key === 'hosts') {
      const v = reader.stringList(e, 'docker.hosts', checkDockerHost, 'CONFIG_BAD_DOCKER_HOST');
      if (v) draft.dockerHosts = [...new Set(v)];
    } else if (e.key === 'label_filter') {
      const v = reader.stringList(e, 'docker.label_filter', checkLabelFilter, 'CONFIG_BAD_LABEL_FILTER');
      if (v) draft.labelFilter = v;
    } else if (e.key === 'swarm') {
      const v = readSwarm(reader, e);
      if (v !== undefined) draft.swarm = v;
    } else {
      const v = reader.bool(e, 'docker.expose_all');
      if (v !== undefined) draft.exposeAll = v;
    }
  }
}

/** `docker.swarm`: auto, true or false (docs/configuration.md); YAML booleans or the word auto. */
function readSwarm(reader: EntryReader, e: Entry): SwarmSetting | undefined {
  const v = reader.scalar(e);
  if (v === true) return 'on';
  if (v === false) return 'off';
  const s = reader.string(e, 'docker.swarm', 'auto, true or false');
  if (s === undefined) return undefined;
  const word = s.trim().toLowerCase();
  if (word === 'auto') return 'auto';
  if (word === 'true' || word === 'false') return word === 'true' ? 'on' : 'off';
  reader.fail('CONFIG_BAD_TYPE', 'docker.swarm', `expected auto, true or false, got ${JSON.stringify(s)}`, e.value);
  return undefined;
}

function readDefaults(reader: EntryReader, d: Entry, draft: Draft): void {
  for (const e of reader.map(d.value, 'defaults', KEYS.defaults, 'healthcheck: { interval: 5s }') ?? []) {
    if (e.key === 'healthcheck') {
      for (const h of reader.map(e.value, 'defaults.healthcheck', KEYS.defaultHealthcheck, '{ interval: 5s, timeout: 5s, rise: 2, fall: 3 }') ?? []) {
        const p = `defaults.healthcheck.${h.key}`;
        if (h.key === 'interval' || h.key === 'timeout') {
          const ms = reader.duration(h, p, { timer: true, positive: true });
          if (ms !== undefined) draft.healthcheck[h.key === 'interval' ? 'intervalMs' : 'timeoutMs'] = ms;
        } else if (h.key === 'status') {
          const st = reader.status(h, p);
          if (st !== undefined) draft.healthcheck.status = st;
        } else {
          const n = reader.positiveInt(h, p);
          if (n !== undefined) draft.healthcheck[h.key as 'rise' | 'fall'] = n;
        }
      }
    } else {
      for (const l of reader.map(e.value, 'defaults.load_balance', KEYS.defaultLoadBalance, '{ mode: roundrobin, sticky_max_age: 1h }') ?? []) {
        const p = `defaults.load_balance.${l.key}`;
        if (l.key === 'mode') {
          const m = reader.mode(l, p);
          if (m !== undefined) draft.loadBalance.mode = m;
        } else if (l.key === 'sticky') {
          const b = reader.bool(l, p);
          if (b !== undefined) draft.loadBalance.sticky = b;
        } else {
          const ms = reader.duration(l, p);
          if (ms !== undefined) draft.loadBalance.stickyMaxAgeMs = ms;
        }
      }
    }
  }
}

export function checkDockerHost(s: string): string | undefined {
  return DOCKER_HOST.test(s) ? undefined : `${JSON.stringify(s)} is not a Docker host URL (unix:///var/run/docker.sock, tcp://host:2375, ssh://user@host)`;
}

/** Canonical level, or the problem. */
export function checkLogLevel(s: string): LogLevel | { problem: string } {
  const l = s.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(l)) return l as LogLevel;
  const near = closest(l, LOG_LEVELS);
  return { problem: `unknown log level ${JSON.stringify(s)}${near === undefined ? '' : `; did you mean ${JSON.stringify(near)}?`} (levels: ${LOG_LEVELS.join(', ')})` };
}

/** Parses and validates one config file's text into `draft`; returns the problems. */
export function readDocument(text: string, file: string, draft: Draft, cidr: CidrValidator): ConfigError[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return doc.errors.map((err) => {
      const line = lines.linePos(err.pos[0]).line;
      const message = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
      return new ConfigError('CONFIG_YAML_SYNTAX', '(yaml)', message, { line, file });
    });
  }
  const reader = new EntryReader(doc, lines, file, cidr);
  readTop(reader, doc.contents, draft);
  return reader.errors;
}
