// Proves the harness: a labelled busybox httpd container on the real engine, its labels and
// address read back through dockerode, fetched over the bridge, and cleaned up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, containerIp, waitFor, uniqueName } from '../support/docker-test.ts';

test('a labelled busybox httpd container answers on its bridge address', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = uniqueName('bellhop-harness');
  const container = await runHttpd(docker, { name, labels: { 'proxy.aliases': 'harness' }, body: 'harness-ok' });
  try {
    const info = await container.inspect();
    assert.equal(info.Config.Labels['proxy.aliases'], 'harness');
    assert.equal(info.Name, `/${name}`);
    const ip = await containerIp(container);
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const body = await waitFor(async () => {
      const res = await fetch(`http://${ip}:80/`);
      return res.status === 200 ? await res.text() : undefined;
    }, 10_000, 'httpd to answer');
    assert.equal(body, 'harness-ok');
  } finally {
    await removeQuietly(container);
  }
  await assert.rejects(container.inspect(), /no such container/i);
});
