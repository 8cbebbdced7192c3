// Loads dockerode without the parts Bellhop never calls, which it requires at load time anyway:
// its BuildKit session (lib/session.js: @grpc/grpc-js, @grpc/proto-loader, protobufjs — ~400
// modules) and docker-modem's own ssh:// transport (lib/ssh.js: ssh2; Bellhop dials SSH itself
// in ssh-dial.ts and hands docker-modem a plain http agent). Together ~6–11 MiB resident. Also
// the image-build context packer's dependencies (lib/util.js: tar-fs with tar-stream, bl and
// readable-stream, @balena/dockerignore; ~30 files), only used by docker.buildImage.
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
    { from: resolveFrom(dockerode, './util'), request: 'tar-fs', what: "dockerode's image-build context packer (tar-fs)" },
    { from: resolveFrom(dockerode, './util'), request: '@balena/dockerignore', what: "dockerode's .dockerignore reader (image builds)" },
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
