#!/usr/bin/env node
// Bellhop's process: config → logger → modules → listen → drain on signal. The only place that
// exits. `bellhop check [compose.yml]` is the offline label checker.
import pino from 'pino';
import { configFilePath, formatConfigErrors, loadConfig, watchConfig } from '../../internal/config/index.ts';
import { createBellhop } from './app.ts';
import { accessLogProblems } from './access-log-paths.ts';
import { loadStickySecret, StickySecretError } from './sticky-secret.ts';

/**
 * A problem that stops startup: readable text on stderr (the caller) for the person at the
 * terminal, and the same as one JSON fatal line on stdout, like every other log line
 * (docs/configuration.md), for log collectors. Synchronous, so it is written before the exit.
 */
function startupFailure(fields: object, msg: string): void {
  pino({ base: { app: 'bellhop' } }, pino.destination({ dest: 1, sync: true })).fatal(fields, msg);
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'check') {
    const { runCheck } = await import('./check.ts');
    return runCheck(argv.slice(1), process.env, process.cwd());
  }
  const env = process.env;
  const cwd = process.cwd();
  const loaded = loadConfig({ env, cwd });
  if (!loaded.ok) {
    process.stderr.write(`bellhop: the config has ${loaded.errors.length} problem(s):\n${formatConfigErrors(loaded.errors)}\n`);
    startupFailure({ module: 'config', file: loaded.file, errors: loaded.errors.map((e) => e.format()) }, `the config has ${loaded.errors.length} problem(s); not starting`);
    return 1;
  }
  const config = loaded.config;
  const log = pino({ level: config.logLevel, base: { app: 'bellhop' } });
  let sticky: ReturnType<typeof loadStickySecret>;
  try {
    sticky = loadStickySecret(config.sticky.secretFile);
  } catch (err) {
    if (!(err instanceof StickySecretError)) throw err;
    process.stderr.write(`bellhop: ${err.message}\n`); // a setup problem, like a bad config: no stack
    startupFailure({ module: 'main', code: err.code, file: config.sticky.secretFile }, err.message);
    return 1;
  }
  const { secret, created } = sticky;
  if (created) log.info({ module: 'main', file: config.sticky.secretFile }, 'created a new sticky-cookie key');
  if (config.docker.hosts.length === 0) log.info({ module: 'main' }, 'docker.hosts is empty: serving file routes only');

  // access_log files (docs/access-log.md): one that cannot be opened is a config error, not a silent gap
  const alogProblems = accessLogProblems(config);
  if (alogProblems.length > 0) {
    process.stderr.write(`bellhop: ${alogProblems.map((p) => `${p.key}: ${p.message}`).join('\n')}\n`);
    startupFailure({ module: 'config', code: 'ACCESS_LOG_OPEN_FAILED', problems: alogProblems }, 'an access log file cannot be opened; not starting');
    return 1;
  }
  const bellhop = createBellhop(config, log, secret);
  // Listeners, Docker hosts, timeouts and the sticky key are fixed at start; trusted proxies,
  // routes, match_domains, defaults, expose_all and label_filter apply on reload.
  const started = config;
  const { path, required } = configFilePath({ env });
  const stopWatching = watchConfig(
    path,
    (r) => {
      if (!r.ok) {
        log.error({ module: 'config', file: r.file, errors: r.errors.map((e) => e.format()) }, 'config change rejected; keeping the running config');
        bellhop.setConfigErrors(r.errors); // listed by the admin API until a good edit (README: Admin API)
        return;
      }
      const next = r.config;
      if (next.entrypoint.http !== started.entrypoint.http || next.api.listen !== started.api.listen) {
        log.warn({ module: 'config' }, 'listen addresses changed: restart Bellhop to apply them');
      }
      if (JSON.stringify(next.docker.hosts) !== JSON.stringify(started.docker.hosts)) {
        log.warn({ module: 'config' }, 'docker.hosts changed: restart Bellhop to apply it');
      }
      if (next.docker.swarm !== started.docker.swarm) log.warn({ module: 'config' }, 'docker.swarm changed: restart Bellhop to apply it');
      if (JSON.stringify(next.entrypoint.timeouts) !== JSON.stringify(started.entrypoint.timeouts) || next.sticky.secretFile !== started.sticky.secretFile) {
        log.warn({ module: 'config' }, 'entrypoint.timeouts or sticky.secret_file changed: restart Bellhop to apply them');
      }
      bellhop.applyConfig(next);
      log.info({ module: 'config', file: r.file }, 'config reloaded');
    },
    { env, cwd },
  );
  if (required || loaded.file) log.info({ module: 'config', file: path }, 'watching the config file');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ module: 'main', signal }, 'draining');
    stopWatching();
    bellhop.stop().then(
      () => {
        log.info({ module: 'main' }, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ module: 'main', err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // logrotate's postrotate: reopen the access log files at their paths (docs/access-log.md)
  process.on('SIGHUP', () => {
    log.info({ module: 'main', signal: 'SIGHUP' }, 'reopening access log files');
    void bellhop.reopenAccessLogs();
  });
  process.on('unhandledRejection', (err) => log.error({ module: 'main', err }, 'unhandled rejection (bug): continuing'));

  try {
    await bellhop.start();
  } catch (err) {
    log.fatal({ module: 'main', err }, 'cannot start');
    return 1;
  }
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`bellhop: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
