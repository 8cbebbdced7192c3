// One WakeControl for containers and Docker Swarm services: the waker and the idle clock call
// start/stop/inspect by slot ID, and a service's slot (keyed by its service ID) is served by the
// service variant: start and unpause scale it up, stop, kill and pause scale it to 0 (a service
// has no pause, and its own stop_grace_period and stop signal govern how its tasks stop).
import type { ServiceWakeControl, WakeControl } from './wake-control.ts';

/** How long a scale-down waits for the tasks to stop beyond their stop timeout. */
const STOP_SLACK_MS = 10_000;

export function unitControl(containers: WakeControl, services: ServiceWakeControl | undefined, isService: (id: string) => boolean): WakeControl {
  const svc = (id: string): ServiceWakeControl | undefined => {
    if (!isService(id)) return undefined;
    if (services === undefined) throw new Error(`${id} is a swarm service, and this Bellhop cannot scale services`);
    return services;
  };
  // async: a refusal rejects like any Docker failure, never throws at the caller.
  return {
    start: async (id) => {
      const s = svc(id);
      return s === undefined ? containers.start(id) : s.scaleUp(id);
    },
    stop: async (id, o) => {
      const s = svc(id);
      return s === undefined ? containers.stop(id, o) : s.scaleDown(id, { waitMs: o.timeoutSec * 1000 + STOP_SLACK_MS });
    },
    kill: async (id, signal) => {
      const s = svc(id);
      return s === undefined ? containers.kill(id, signal) : s.scaleDown(id, { waitMs: STOP_SLACK_MS });
    },
    pause: async (id) => {
      const s = svc(id);
      return s === undefined ? containers.pause(id) : s.scaleDown(id, { waitMs: STOP_SLACK_MS });
    },
    unpause: async (id) => {
      const s = svc(id);
      return s === undefined ? containers.unpause(id) : s.scaleUp(id);
    },
    inspect: async (id) => {
      const s = svc(id);
      return s === undefined ? containers.inspect(id) : s.inspect(id);
    },
    logsTail: async (id, n) => {
      const s = svc(id);
      return s === undefined ? containers.logsTail(id, n) : s.logsTail(id, n);
    },
  };
}
