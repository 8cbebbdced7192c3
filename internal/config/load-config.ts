// defaults → YAML file → environment overrides → frozen Config, collecting every problem.
import { dirname, resolve } from 'node:path';
import { deepFreeze } from '../../pkg/freeze/index.ts';
import { checkCidr, type CidrValidator } from './cidr.ts';
import { ConfigError, ENV_SOURCE } from './config-error.ts';
import type { AutocertCertificate, AutocertConfig, Config } from './config-types.ts';
import { DEFAULT_CONFIG_FILE } from './defaults.ts';
import { parseListenAddress, type ListenAddress } from './listen-address.ts';
import { defaultDraft, type AutocertDraft, type CertDraft, type Draft } from './config-draft.ts';
import { checkDockerHost, checkLogLevel, readDocument } from './read-document.ts';

const { readFileSync } = process.getBuiltinModule('node:fs');

export interface LoadConfigOptions {
  /** Explicit file (e.g. a CLI flag); beats BELLHOP_CONFIG. A missing explicit file is an error. */
  path?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Relative paths (file, sticky.secret_file) resolve against this. */
  cwd: string;
  /** Stricter IP/CIDR check (e.g. pkg/realip's); the built-in one uses node:net isIP. */
  validateCidr?: CidrValidator | undefined;
}

export type LoadConfigResult =
  | { readonly ok: true; readonly config: Config; /** the file loaded, as named */ readonly file?: string | undefined }
  | { readonly ok: false; readonly errors: readonly ConfigError[]; readonly file?: string | undefined };

/** Which file loadConfig reads: the explicit path, else BELLHOP_CONFIG, else ./config.yml (optional). */
export function configFilePath(options: Pick<LoadConfigOptions, 'path' | 'env'>): { path: string; required: boolean } {
  const named = options.path ?? nonEmpty(options.env['BELLHOP_CONFIG']);
  return named === undefined ? { path: DEFAULT_CONFIG_FILE, required: false } : { path: named, required: true };
}

/** Loads and validates the configuration. Never throws for bad input: problems come back as errors. */
export function loadConfig(options: LoadConfigOptions): LoadConfigResult {
  const draft = defaultDraft();
  const errors: ConfigError[] = [];
  const { path, required } = configFilePath(options);
  let file: string | undefined;
  let text: string | undefined;
  try {
    text = readFileSync(resolve(options.cwd, path), 'utf8');
    file = path;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && required) {
      errors.push(new ConfigError('CONFIG_FILE_MISSING', options.path === undefined ? 'BELLHOP_CONFIG' : '(file)', `config file ${JSON.stringify(path)} does not exist`, { file: path }));
    } else if (code !== 'ENOENT') {
      errors.push(new ConfigError('CONFIG_FILE_UNREADABLE', '(file)', `cannot read config file: ${(err as Error).message}`, { file: path }));
    }
  }
  if (text !== undefined) errors.push(...sortByLine(readDocument(text, path, draft, options.validateCidr ?? checkCidr)));
  errors.push(...applyEnv(draft, options.env));
  if (errors.length > 0) return { ok: false, errors, file };
  return { ok: true, config: buildConfig(draft, options.cwd), file };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

function sortByLine(errors: ConfigError[]): ConfigError[] {
  return errors.map((e, i) => [e, i] as const).sort(([a, i], [b, j]) => (a.line ?? 0) - (b.line ?? 0) || i - j).map(([e]) => e);
}

function applyEnv(draft: Draft, env: NodeJS.ProcessEnv): ConfigError[] {
  const errors: ConfigError[] = [];
  const bad = (code: ConstructorParameters<typeof ConfigError>[0], key: string, message: string): void => {
    errors.push(new ConfigError(code, key, message, { file: ENV_SOURCE }));
  };
  const http = nonEmpty(env['BELLHOP_HTTP_ADDR']);
  if (http !== undefined) {
    const p = parseListenAddress(http);
    if (typeof p === 'string') bad('CONFIG_BAD_LISTEN', 'BELLHOP_HTTP_ADDR', p);
    else draft.http = http;
  }
  // The image sets BELLHOP_HTTPS_ADDR=:8443 for its non-root user: it takes effect only with an
  // autocert block, so it is not an error without one. "" disables HTTPS, as in the file.
  const https = env['BELLHOP_HTTPS_ADDR'];
  if (https !== undefined) {
    const a = https.trim();
    const p = a === '' ? undefined : parseListenAddress(a);
    if (typeof p === 'string') bad('CONFIG_BAD_LISTEN', 'BELLHOP_HTTPS_ADDR', p);
    else draft.https = a;
  }
  // Unlike the others, an empty BELLHOP_API_ADDR means something: "" disables the API, as in the file.
  const api = env['BELLHOP_API_ADDR'];
  if (api !== undefined) {
    const a = api.trim();
    const p = a === '' ? undefined : parseListenAddress(a);
    if (typeof p === 'string') bad('CONFIG_BAD_LISTEN', 'BELLHOP_API_ADDR', p);
    else draft.apiListen = a;
  }
  const docker = nonEmpty(env['DOCKER_HOST']);
  if (docker !== undefined) {
    const problem = checkDockerHost(docker);
    if (problem !== undefined) bad('CONFIG_BAD_DOCKER_HOST', 'DOCKER_HOST', problem);
    else draft.dockerHosts = [docker];
  }
  const level = nonEmpty(env['LOG_LEVEL']);
  if (level !== undefined) {
    const l = checkLogLevel(level);
    if (typeof l === 'string') draft.logLevel = l;
    else bad('CONFIG_BAD_LOG_LEVEL', 'LOG_LEVEL', l.problem);
  }
  return errors;
}

function address(text: string): ListenAddress {
  const p = parseListenAddress(text);
  // Unreachable: every address in a draft was validated on the way in.
  if (typeof p === 'string') throw new Error(`internal: unvalidated listen address ${text}`);
  return p;
}

function buildConfig(d: Draft, cwd: string): Config {
  const routes: Config['routes'] = Object.fromEntries(d.routes.map((r) => [r.name, r]));
  return deepFreeze<Config>({
    entrypoint: {
      http: d.http,
      httpAddress: address(d.http),
      https: d.https,
      httpsAddress: d.autocert === undefined || d.https === '' ? undefined : address(d.https),
      redirectHttp: d.redirectHttp,
      hsts: d.hsts,
      trustedProxies: d.trustedProxies,
      middlewares: d.entrypointMiddlewares,
      accessLog: d.entrypointAccessLog,
      timeouts: d.timeouts,
    },
    api: {
      listen: d.apiListen,
      address: d.apiListen === '' ? undefined : address(d.apiListen),
      auth: d.apiAuth === undefined ? undefined : { tokenFile: d.apiAuth.tokenFile === undefined ? undefined : resolve(cwd, d.apiAuth.tokenFile), users: d.apiAuth.users },
    },
    docker: { hosts: d.dockerHosts, exposeAll: d.exposeAll, labelFilter: d.labelFilter, swarm: d.swarm },
    matchDomains: d.matchDomains,
    defaults: { healthcheck: d.healthcheck, loadBalance: d.loadBalance },
    sticky: { secretFile: resolve(cwd, d.secretFile) },
    routes,
    streams: Object.fromEntries(d.streams.map((r) => [r.name, r])),
    wake: { showLogs: d.wakeShowLogs },
    autocert: d.autocert === undefined ? undefined : buildAutocert(d.autocert, cwd),
    logLevel: d.logLevel,
  });
}

function buildCert(c: CertDraft, cwd: string): AutocertCertificate {
  return { provider: c.provider, domains: c.domains, certPath: resolve(cwd, c.certPath), keyPath: resolve(cwd, c.keyPath), options: c.options };
}

function buildAutocert(a: AutocertDraft, cwd: string): AutocertConfig {
  const main = buildCert(a, cwd);
  return {
    ...main,
    email: a.email,
    caDirUrl: a.caDirUrl,
    caCerts: a.caCerts.map((f) => resolve(cwd, f)),
    eabKid: a.eabKid,
    eabHmac: a.eabHmac,
    certificateKeyType: a.certificateKeyType,
    renewBeforeMs: a.renewBeforeMs,
    dataDir: dirname(main.certPath),
    extra: a.extra.map((c) => buildCert(c, cwd)),
  };
}
