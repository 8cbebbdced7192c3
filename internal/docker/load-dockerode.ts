// Loads dockerode without the parts Bellhop never calls, which it requires at load time anyway:
// its BuildKit session (lib/session.js: @grpc/grpc-js, @grpc/proto-loader, protobufjs — ~400
// modules) and docker-modem's own ssh:// transport (lib/ssh.js: ssh2; Bellhop dials SSH itself
// in ssh-dial.ts and hands docker-modem a plain http agent). Together ~6–11 MiB resident.
import { createRequire } from 'node:module';
import type Docker from 'dockerode';
import { leaveOut, resolveFrom, type LeftOut } from '../../pkg/lean-require/index.ts';

const require = createRequire(import.meta.url);

/** What dockerode is loaded without (exported for the test that checks the files exist). */
export function unusedDockerodeParts(): LeftOut[] {
  const dockerode = require.resolve('dockerode');
  return [
    { from: dockerode, request: './session', what: "dockerode's BuildKit session (image builds)" },
    { from: resolveFrom(dockerode, 'docker-modem'), request: './ssh', what: "docker-modem's ssh:// transport (Bellhop dials SSH itself)" },
  ];
}

let loaded: typeof Docker | undefined;

/** The dockerode constructor, loaded on first use with its unused parts left out. */
export function dockerode(): typeof Docker {
  if (loaded === undefined) {
    leaveOut(unusedDockerodeParts());
    loaded = require('dockerode') as typeof Docker;
  }
  return loaded;
}
