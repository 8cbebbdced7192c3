import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolveFrom } from '../../pkg/lean-require/index.ts';
import { dockerode, unusedDockerodeParts } from './load-dockerode.ts';

test('dockerode loads without its BuildKit gRPC stack, docker-modem ssh transport and build-context packer, and still makes clients', () => {
  const parts = unusedDockerodeParts();
  for (const p of parts) assert.ok(existsSync(resolveFrom(p.from, p.request)), `${p.request} still exists next to ${p.from} (an upgrade moved it?)`);
  const Docker = dockerode();
  const d = new Docker({ socketPath: '/nonexistent.sock' });
  assert.equal(typeof d.listContainers, 'function');
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  assert.deepEqual(loaded.filter((f) => /\/(@grpc|protobufjs|tar-stream)\//.test(f)), [], 'no gRPC, protobuf or tar module loaded');
});
