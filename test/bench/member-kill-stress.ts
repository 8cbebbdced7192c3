// Stress: a two-member pool on the real Docker engine under keep-alive load, one member killed
// (`docker kill`) and started again, round after round. Every GET is bodiless and idempotent, so
// the client must never see a member's death: the script prints every failure it saw and exits
// non-zero if there was any. Not part of the gate (it takes minutes); run it with
//   node test/bench/member-kill-stress.ts [--rounds 50] [--clients 10]
// It needs a Docker engine and the test image (`npm test` builds it once).
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import type Docker from 'dockerode';
import { ensureDockerEngine, ensureTestImage } from '../support/docker-engine.ts';
import { dockerClient, removeQuietly, runHttpd, uniqueName, waitFor } from '../support/docker-test.ts';
import { startBellhop } from '../support/bellhop-harness.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '50' },
    clients: { type: 'string', default: '10' },
  },
});
const rounds = Number(values.rounds);
const clients = Number(values.clients);

const engine = await ensureDockerEngine();
if (!engine.ok) {
  process.stderr.write(`no Docker engine: ${engine.reason}\n`);
  process.exit(2);
}
await ensureTestImage(engine.docker);

interface Reply {
  status: number;
  body: string;
}

function get(port: number, host: string, agent: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const docker = dockerClient();
const pool = uniqueName('stress');
const labels = (alias: string): Record<string, string> => ({
  'proxy.aliases': alias,
  [`proxy.${alias}.load_balance.link`]: pool,
  [`proxy.${alias}.healthcheck.interval`]: '300ms',
  [`proxy.${alias}.healthcheck.timeout`]: '300ms',
});
const names = [uniqueName('stress-a'), uniqueName('stress-b')];
const containers: Docker.Container[] = [];
for (const [i, name] of names.entries()) containers.push(await runHttpd(docker, { name, body: String(i), labels: labels(name) }));
const run = await startBellhop({
  mode: 'in-process',
  logLevel: 'debug',
  yaml: 'entrypoint: { timeouts: { upstream_connect: 1s, upstream_response: 2s } }',
});
const usable = async (): Promise<number> => (await run.route(pool))?.members.filter((m) => m.usable).length ?? 0;

const failures: string[] = [];
let total = 0;
let kills = 0;
const started = Date.now();
try {
  for (let round = 0; round < rounds; round++) {
    await waitFor(async () => ((await usable()) === 2 ? true : undefined), 30_000, `round ${String(round)}: both members usable`);
    const victim = containers[round % 2]!;
    const agent = new Agent({ keepAlive: true, maxSockets: clients });
    let stop = false;
    const logMark = run.logs().length;
    const loop = async (): Promise<void> => {
      while (!stop) {
        total++;
        try {
          const r = await get(run.httpPort, pool, agent);
          if (r.status !== 200) failures.push(`round ${String(round)}: HTTP ${String(r.status)} ${r.body.slice(0, 160)}`);
        } catch (err) {
          failures.push(`round ${String(round)}: ${(err as Error).message}`);
        }
      }
    };
    const before = failures.length;
    const load = Promise.all(Array.from({ length: clients }, loop));
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 250));
    await victim.kill();
    kills++;
    await new Promise((r) => setTimeout(r, 700));
    stop = true;
    await load;
    agent.destroy();
    if (failures.length > before) {
      // what the proxy decided for the failed attempts of this round
      for (const l of run.logs().slice(logMark)) if (l.includes('upstream attempt failed') || l.includes('"level":50')) process.stdout.write(`  ${l}\n`);
    }
    await victim.start();
    process.stdout.write(`round ${String(round + 1)}/${String(rounds)}: ${String(total)} GETs so far, ${String(failures.length)} failed\n`);
  }
} finally {
  await run.stop();
  for (const c of containers) await removeQuietly(c);
}
process.stdout.write(`\n${String(kills)} kills, ${String(clients)} keep-alive clients, ${String(total)} GETs, ${String(failures.length)} failed (${String(Math.round((Date.now() - started) / 1000))} s)\n`);
for (const f of failures) process.stdout.write(`  ${f}\n`);
process.exit(failures.length === 0 ? 0 : 1);
