// The wake module's WakeControl over internal/docker's ContainerControl. A container is
// controlled through the Docker host discovery lists it on, and only if Bellhop sees it at all
// (docker.label_filter). After a start Docker may hand out a new address: `inspect` runs the
// same label parser, with the same options, over the fresh record, so the network and port
// chosen for the wake are the ones discovery will choose.
import type { ContainerControl, ContainerRecord } from '../docker/index.ts';
import { parseContainers, type ParseOptions } from '../labels/index.ts';
import type { WakeControl, WakeInspect } from '../wake/index.ts';

/** The ContainerControl calls waking and sleeping use. */
export type ContainerActions = Pick<ContainerControl, 'start' | 'stop' | 'kill' | 'pause' | 'unpause' | 'inspect' | 'logsTail'>;

export interface WakeControlSources {
  /** The containers Bellhop sees (the reconciler's `visible()`). */
  records(): readonly ContainerRecord[];
  /** The control of one Docker host, by its URL (DockerHub's `control`). */
  control(dockerHost: string): ContainerActions | undefined;
  /** The label parser options discovery uses (the reconciler's `parseOptions()`). */
  parseOptions(): ParseOptions;
}

export function createWakeControl(src: WakeControlSources): WakeControl {
  const controlFor = (id: string): ContainerActions => {
    const host = src.records().find((r) => r.id === id)?.dockerHost;
    const c = host === undefined ? undefined : src.control(host);
    if (!c) throw new Error(`container ${id} is not known on any Docker host`);
    return c;
  };
  return {
    start: (id) => controlFor(id).start(id),
    stop: (id, o) => controlFor(id).stop(id, o.signal === undefined ? { timeoutSec: o.timeoutSec } : { timeoutSec: o.timeoutSec, signal: o.signal }),
    kill: (id, s) => controlFor(id).kill(id, s),
    pause: (id) => controlFor(id).pause(id),
    unpause: (id) => controlFor(id).unpause(id),
    logsTail: (id, n) => controlFor(id).logsTail(id, n),
    async inspect(id): Promise<WakeInspect> {
      const rec = await controlFor(id).inspect(id);
      const parsed = parseContainers([rec], src.parseOptions());
      // Member ids are stable for a container and port, so these match the route table's members
      // (which list a stopped container without an address until discovery re-syncs).
      const urls: Record<string, string> = {};
      for (const m of parsed.routes.flatMap((r) => r.members)) if (m.container?.id === id && m.url !== '') urls[m.id] = m.url;
      const url = Object.values(urls)[0];
      let host: string | undefined;
      if (url) host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      return { state: rec.state, host, urls, dockerHealth: rec.dockerHealth, exitCode: rec.exitCode };
    },
  };
}
