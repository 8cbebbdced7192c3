// A Docker Compose file read offline, for `bellhop check`: only what decides Bellhop's routes
// (labels, replicas, ports, networks, depends_on, names). Lives here because config is the home
// of `yaml`. Follows the Compose specification's forms (map and list labels, short and long port
// syntax, `${VAR:-default}` interpolation from the environment and the project's `.env`).
import { basename, dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';

const { readFileSync } = process.getBuiltinModule('node:fs');

/** One published or exposed TCP port of a service. */
export interface ComposePort {
  /** Container port. */
  target: number;
  /** Host port; undefined when Docker picks one. */
  published?: number | undefined;
}

/** A `depends_on` entry. */
export interface ComposeDependency {
  service: string;
  condition: string; // service_started (default), service_healthy, service_completed_successfully
  restart: boolean;
}

/** A service, as far as Bellhop's labels are concerned. */
export interface ComposeService {
  name: string;
  image: string;
  containerName?: string | undefined;
  labels: Record<string, string>;
  /** `deploy.replicas`, else `scale`, else 1 (0 is allowed: no container). */
  replicas: number;
  /** `expose:` ports, TCP only, ascending. */
  expose: number[];
  /** `ports:`, TCP only. */
  ports: ComposePort[];
  /** Container ports in `expose:` or `ports:` written `/udp`, ascending. */
  udpPorts: number[];
  /** `network_mode:` when set (`host`, `bridge`, `none`, `service:x`, `container:x`). */
  networkMode?: string | undefined;
  /** Docker network names the service joins (resolved: `<project>_default`, `name:`, external). */
  networks: string[];
  dependsOn: ComposeDependency[];
}

/** A problem in one service's definition (the rest of the file is still used). */
export interface ComposeProblem {
  service?: string | undefined;
  /** e.g. `services.web.ports[1]` */
  key: string;
  message: string;
}

export interface ComposeFile {
  /** Absolute path read. */
  file: string;
  /** Compose project name: COMPOSE_PROJECT_NAME, else top-level `name:`, else the folder name. */
  project: string;
  /** In file order. */
  services: ComposeService[];
  problems: ComposeProblem[];
}

export type ComposeFileErrorCode = 'COMPOSE_UNREADABLE' | 'COMPOSE_YAML_SYNTAX' | 'COMPOSE_NOT_A_MAPPING' | 'COMPOSE_NO_SERVICES';

/** The file cannot be used at all (missing, unreadable, not YAML, no `services:`). */
export class ComposeFileError extends Error {
  readonly code: ComposeFileErrorCode;
  readonly file: string;
  readonly line: number | undefined;
  constructor(code: ComposeFileErrorCode, file: string, message: string, opts: { line?: number | undefined; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ComposeFileError';
    this.code = code;
    this.file = file;
    this.line = opts.line;
  }
}

/** File names `docker compose` looks for, in its order. */
export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;

/**
 * Reads and interprets a compose file. Throws {@link ComposeFileError} when the file cannot be
 * used; problems inside services come back in `problems`. `env` feeds `${VAR}` interpolation
 * (a `.env` beside the file fills in what `env` lacks).
 */
export function readComposeFile(path: string, env: NodeJS.ProcessEnv = {}): ComposeFile {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ComposeFileError('COMPOSE_UNREADABLE', file, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseComposeText(text, file, { ...readDotEnv(resolve(dirname(file), '.env')), ...env });
}

/** {@link readComposeFile} on text already in memory; `file` names it and gives the project folder. */
export function parseComposeText(text: string, file: string, env: NodeJS.ProcessEnv = {}): ComposeFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = lines.linePos(first.pos[0]).line;
    throw new ComposeFileError('COMPOSE_YAML_SYNTAX', file, `${file}:${String(line)}: ${(first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`, { line });
  }
  const problems: ComposeProblem[] = [];
  const root = interpolate(doc.toJS({ maxAliasCount: 1000 }) as unknown, env, problems, '');
  if (!isRecord(root)) throw new ComposeFileError('COMPOSE_NOT_A_MAPPING', file, `${file}: expected a mapping with "services:" at the top`);
  const services = root['services'];
  if (!isRecord(services) || Object.keys(services).length === 0) throw new ComposeFileError('COMPOSE_NO_SERVICES', file, `${file}: no "services:" found`);

  const project = projectName(nonEmpty(env['COMPOSE_PROJECT_NAME']) ?? (typeof root['name'] === 'string' ? root['name'] : undefined) ?? basename(dirname(file)));
  const topNetworks = isRecord(root['networks']) ? root['networks'] : {};
  const out: ComposeService[] = [];
  for (const [name, raw] of Object.entries(services)) {
    const at = `services.${name}`;
    if (!isRecord(raw)) {
      problems.push({ service: name, key: at, message: 'expected a mapping (image:, labels:, ...)' });
      continue;
    }
    const p = (key: string, message: string) => problems.push({ service: name, key: `${at}.${key}`, message });
    out.push({
      name,
      image: typeof raw['image'] === 'string' ? raw['image'] : raw['build'] !== undefined ? `${project}-${name}` : '',
      containerName: typeof raw['container_name'] === 'string' ? raw['container_name'] : undefined,
      labels: readLabels(raw['labels'], p),
      replicas: readReplicas(raw, p),
      expose: readExpose(raw['expose'], p),
      ports: readPorts(raw['ports'], p),
      udpPorts: readUdpPorts(raw['expose'], raw['ports']),
      networkMode: typeof raw['network_mode'] === 'string' ? raw['network_mode'] : undefined,
      networks: raw['network_mode'] === undefined ? readNetworks(raw['networks'], project, topNetworks, p) : [],
      dependsOn: readDependsOn(raw['depends_on'], p),
    });
  }
  return { file, project, services: out, problems };
}

/** Compose's normalisation: lower case, only a-z 0-9 _ -, starting with a letter or digit. */
export function projectName(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readDotEnv(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {}; // no .env is the common case
  }
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m || m[1] === undefined) continue;
    let v = (m[2] ?? '').trim();
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, '');
    out[m[1]] = v;
  }
  return out;
}

const VAR = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?msg}`, `${VAR:+alt}`, `$$` in every string value. */
function interpolate(v: unknown, env: NodeJS.ProcessEnv, problems: ComposeProblem[], path: string): unknown {
  if (typeof v === 'string') {
    return v.replace(VAR, (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (whole === '$$') return '$';
      const name = braced ?? bare ?? '';
      const value = env[name];
      const set = value !== undefined;
      const nonEmptyValue = set && value !== '';
      switch (op) {
        case ':-':
          return nonEmptyValue ? value : (arg ?? '');
        case '-':
          return set ? value : (arg ?? '');
        case ':+':
          return nonEmptyValue ? (arg ?? '') : '';
        case '+':
          return set ? (arg ?? '') : '';
        case ':?':
        case '?':
          if (op === ':?' ? nonEmptyValue : set) return value ?? '';
          problems.push({ key: path || '(value)', message: `required variable ${name} is not set${arg ? `: ${arg}` : ''}` });
          return '';
        default:
          return value ?? '';
      }
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolate(x, env, problems, `${path}[${String(i)}]`));
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k.startsWith('x-') && path === '' ? x : interpolate(x, env, problems, path === '' ? k : `${path}.${k}`);
    return out;
  }
  return v;
}

type Report = (key: string, message: string) => void;

function scalarText(v: unknown): string | undefined {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

function readLabels(v: unknown, report: Report): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      if (typeof item !== 'string') {
        report(`labels[${String(i)}]`, 'expected "key=value"');
        return;
      }
      const eq = item.indexOf('=');
      const key = (eq < 0 ? item : item.slice(0, eq)).trim();
      if (key === '') report(`labels[${String(i)}]`, `"${item}" has no label name`);
      else out[key] = eq < 0 ? '' : item.slice(eq + 1);
    });
    return out;
  }
  if (isRecord(v)) {
    for (const [k, x] of Object.entries(v)) {
      const s = scalarText(x);
      if (s === undefined) report(`labels.${k}`, 'a label value must be a string (quote it, or use "|" for a YAML block)');
      else out[k] = s;
    }
    return out;
  }
  report('labels', 'expected a mapping or a list of "key=value"');
  return out;
}

function count(v: unknown, key: string, report: Report): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
  report(key, `expected a whole number of containers, got ${JSON.stringify(v)}`);
  return undefined;
}

function readReplicas(raw: Record<string, unknown>, report: Report): number {
  const deploy = raw['deploy'];
  if (isRecord(deploy)) {
    if (deploy['mode'] === 'global') return 1;
    const r = count(deploy['replicas'], 'deploy.replicas', report);
    if (r !== undefined) return r;
  }
  return count(raw['scale'], 'scale', report) ?? 1;
}

function portNumber(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** `80`, `8000-8002` → [80] / [8000, 8001, 8002]; undefined when malformed. */
function portRange(s: string): number[] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s.trim());
  if (!m || m[1] === undefined) return undefined;
  const a = portNumber(m[1]);
  const b = m[2] === undefined ? a : portNumber(m[2]);
  if (a === undefined || b === undefined || b < a || b - a > 1000) return undefined;
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

function splitProtocol(s: string): { spec: string; tcp: boolean } {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return { spec: s, tcp: true };
  return { spec: s.slice(0, slash), tcp: s.slice(slash + 1).toLowerCase() === 'tcp' };
}

function readExpose(v: unknown, report: Report): number[] {
  const set = new Set<number>();
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    report('expose', 'expected a list of ports');
    return [];
  }
  v.forEach((item, i) => {
    const text = scalarText(item);
    const { spec, tcp } = splitProtocol(text ?? '');
    const ports = text === undefined ? undefined : portRange(spec);
    if (ports === undefined) report(`expose[${String(i)}]`, `${JSON.stringify(item)} is not a port or port range`);
    else if (tcp) for (const p of ports) set.add(p);
  });
  return [...set].sort((a, b) => a - b);
}

/** `expose:` and `ports:` entries written `/udp` (long form: `protocol: udp`); malformed ones are reported by readExpose / readPorts. */
function readUdpPorts(expose: unknown, ports: unknown): number[] {
  const set = new Set<number>();
  const udp = (text: string | undefined): string | undefined => {
    if (text === undefined) return undefined;
    const slash = text.lastIndexOf('/');
    return slash >= 0 && text.slice(slash + 1).toLowerCase() === 'udp' ? text.slice(0, slash) : undefined;
  };
  for (const item of Array.isArray(expose) ? expose as unknown[] : []) {
    for (const p of portRange(udp(scalarText(item)) ?? '') ?? []) set.add(p);
  }
  for (const item of Array.isArray(ports) ? ports as unknown[] : []) {
    if (isRecord(item)) {
      const target = portNumber(scalarText(item['target']) ?? '');
      if (target !== undefined && typeof item['protocol'] === 'string' && item['protocol'].toLowerCase() === 'udp') set.add(target);
      continue;
    }
    const spec = udp(scalarText(item));
    if (spec === undefined) continue;
    const parts = spec.replace(/^\[[^\]]*\]:/, '').split(':');
    for (const p of portRange(parts[parts.length - 1] ?? '') ?? []) set.add(p);
  }
  return [...set].sort((a, b) => a - b);
}

function readPorts(v: unknown, report: Report): ComposePort[] {
  const out: ComposePort[] = [];
  if (v === undefined || v === null) return out;
  if (!Array.isArray(v)) {
    report('ports', 'expected a list of ports ("8080:80" or { target: 80, published: 8080 })');
    return out;
  }
  v.forEach((item, i) => {
    const key = `ports[${String(i)}]`;
    if (isRecord(item)) {
      const target = portNumber(scalarText(item['target']) ?? '');
      if (target === undefined) {
        report(`${key}.target`, `${JSON.stringify(item['target'])} is not a container port`);
        return;
      }
      if (typeof item['protocol'] === 'string' && item['protocol'].toLowerCase() !== 'tcp') return;
      const pub = item['published'] === undefined ? undefined : portRange(scalarText(item['published']) ?? '');
      if (item['published'] !== undefined && pub === undefined) report(`${key}.published`, `${JSON.stringify(item['published'])} is not a host port or range`);
      out.push({ target, published: pub?.[0] });
      return;
    }
    const text = scalarText(item);
    const bad = () => report(key, `${JSON.stringify(item)} is not a port mapping like "8080:80", "127.0.0.1:8080:80" or "80"`);
    if (text === undefined || text === '') return bad();
    const { spec, tcp } = splitProtocol(text);
    // [host_ip:][host_port:]container_port; an IPv6 host_ip is bracketed.
    const withoutIp = spec.replace(/^\[[^\]]*\]:/, '');
    const parts = withoutIp.split(':');
    const containerPart = parts[parts.length - 1] ?? '';
    const hostPart = parts.length >= 2 ? (parts[parts.length - 2] ?? '') : '';
    const targets = portRange(containerPart);
    const hosts = hostPart === '' ? undefined : portRange(hostPart);
    if (targets === undefined || (hostPart !== '' && hosts === undefined) || parts.length > 3) return bad();
    if (!tcp) return;
    targets.forEach((t, k) => out.push({ target: t, published: hosts === undefined ? undefined : (hosts.length === targets.length ? hosts[k] : hosts[0]) }));
  });
  return out;
}

function networkName(key: string, project: string, top: Record<string, unknown>): string {
  const def = top[key];
  if (isRecord(def)) {
    if (typeof def['name'] === 'string' && def['name'] !== '') return def['name'];
    if (def['external'] === true) return key;
  }
  return `${project}_${key}`;
}

function readNetworks(v: unknown, project: string, top: Record<string, unknown>, report: Report): string[] {
  let keys: string[];
  if (v === undefined || v === null) keys = ['default'];
  else if (Array.isArray(v)) keys = v.filter((x): x is string => typeof x === 'string');
  else if (isRecord(v)) keys = Object.keys(v);
  else {
    report('networks', 'expected a list or mapping of network names');
    keys = ['default'];
  }
  return [...new Set(keys.map((k) => networkName(k, project, top)))].sort();
}

function readDependsOn(v: unknown, report: Report): ComposeDependency[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string').map((service) => ({ service, condition: 'service_started', restart: false }));
  if (isRecord(v)) {
    return Object.entries(v).map(([service, o]) => ({
      service,
      condition: isRecord(o) && typeof o['condition'] === 'string' ? o['condition'] : 'service_started',
      restart: isRecord(o) && o['restart'] === true,
    }));
  }
  report('depends_on', 'expected a list or mapping of service names');
  return [];
}
