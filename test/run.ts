// The one test gate after lint and type check: provides a Docker engine (or explains loudly why
// not), builds the test image, then runs every *.test.ts with node:test and enforces the
// coverage floor on pkg/ and internal/.
import { spawn } from 'node:child_process';
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

const nodeArgs = ['--test', '--test-concurrency=3', '--test-timeout=180000', '--test-reporter=spec'];
if (!noCoverage && files.length === 0) {
  nodeArgs.push(
    '--experimental-test-coverage',
    '--test-coverage-lines=85',
    '--test-coverage-include=pkg/**/*.ts',
    '--test-coverage-include=internal/**/*.ts',
    '--test-coverage-exclude=**/*.test.ts',
  );
}
nodeArgs.push(...(files.length > 0 ? files : ['pkg/**/*.test.ts', 'internal/**/*.test.ts', 'cmd/**/*.test.ts', 'test/**/*.test.ts']));

const child = spawn(process.execPath, nodeArgs, { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
