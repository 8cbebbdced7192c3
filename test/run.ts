// The one test gate after lint and type check: provides a Docker engine (or explains loudly why
// not), builds the test image, then runs every *.test.ts with node:test and enforces the
// coverage floor on pkg/ and internal/.
import { spawn } from 'node:child_process';
import { globSync } from 'node:fs';
import { ensureDockerEngine, ensureTestImage } from './support/docker-engine.ts';

const args = process.argv.slice(2);
const noDocker = args.includes('--no-docker');
const noCoverage = args.includes('--no-coverage');
const files = args.filter((a) => !a.startsWith('--'));
const ci = Boolean(process.env['CI']);
const env: NodeJS.ProcessEnv = { ...process.env };

if (noDocker) {
  env['BELLHOP_TEST_DOCKER'] = 'skip:--no-docker given';
} else {
  const engine = await ensureDockerEngine();
  if (engine.ok) {
    await ensureTestImage(engine.docker);
    env['BELLHOP_TEST_DOCKER'] = '1';
    process.stderr.write(`[test] Docker engine: ${engine.how}\n`);
  } else if (ci) {
    process.stderr.write(`[test] FAIL: CI is set but no Docker engine could be had: ${engine.reason}\n`);
    process.exit(1);
  } else {
    env['BELLHOP_TEST_DOCKER'] = `skip:${engine.reason}`;
    process.stderr.write(`\n[test] !!! DOCKER TESTS SKIPPED: ${engine.reason} !!!\n\n`);
  }
}

// Tests that disturb the whole machine (restarting dockerd) run alone, after everything else.
const ISOLATED = /-(dockerd-restart|swarm)\.test\.ts$/;
const all = files.length > 0 ? files : ['pkg/**/*.test.ts', 'internal/**/*.test.ts', 'cmd/**/*.test.ts', 'tools/**/*.test.ts', 'test/**/*.test.ts'];

function run(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const common = ['--test', '--test-concurrency=3', '--test-timeout=180000', '--test-reporter=spec'];
const coverage = !noCoverage && files.length === 0
  ? [
      '--experimental-test-coverage',
      '--test-coverage-lines=85',
      '--test-coverage-include=pkg/**/*.ts',
      '--test-coverage-include=internal/**/*.ts',
      '--test-coverage-exclude=**/*.test.ts',
    ]
  : [];
const expanded = all.flatMap((p) => (p.includes('*') ? globSync(p) : [p])).filter((f) => !f.includes('node_modules'));
const isolated = expanded.filter((f) => ISOLATED.test(f));
const main = expanded.filter((f) => !ISOLATED.test(f));
let code = main.length > 0 ? await run([...common, ...coverage, ...main]) : 0;
for (const f of isolated) {
  process.stderr.write(`\n[test] running alone: ${f}\n`);
  const c = await run([...common, f]);
  if (c !== 0) code = c;
}
process.exit(code);
