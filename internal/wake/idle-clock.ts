// The idle clock and the stop it leads to: one timer per awake container, due idle_timeout after
// the last activity (activity-ledger.ts); when it fires with nothing open, the container drains
// and is stopped with its stop_method, and the dependencies nobody needs any more follow.
import type { IdleSpec } from '../routes/index.ts';
import type { ContainerSlot } from './container-slot.ts';
import type { SlotTable } from './slot-table.ts';
import type { Logger } from '../../pkg/log/index.ts';
import type { WakeControl } from './wake-control.ts';
import { MAX_TIMER_MS, withDeadline } from './wake-deadline.ts';

export class IdleClock {
  stopsTotal = 0;
  private readonly table: SlotTable;
  private readonly control: WakeControl;
  private readonly log: Logger;

  constructor(table: SlotTable, control: WakeControl, log: Logger) {
    this.table = table;
    this.control = control;
    this.log = log;
  }

  /**
   * Counts one request or tunnel on container `id` until the returned function is called.
   * Counted on the container's ledger record, not on its slot: a later sync may replace the
   * slot while the request or tunnel is still open, and the new one must see it.
   */
  hold(id: string): () => void {
    return this.table.activity.hold(id, () => {
      const current = this.table.get(id);
      if (current !== undefined) this.arm(current);
      else this.table.activity.forget(id); // no longer managed: nothing to clock
    });
  }

  /** Starts counting down from the last activity, unless something is open or it already counts. */
  arm(slot: ContainerSlot): void {
    if (this.table.closed || slot.gone || slot.timer !== undefined || slot.idle === undefined || slot.activity.inFlight > 0) return;
    const due = slot.activity.lastActivity + slot.idle.idleTimeoutMs;
    slot.timer = setTimeout(() => this.onIdle(slot), Math.min(MAX_TIMER_MS, Math.max(0, due - Date.now())));
    slot.timer.unref();
  }

  clear(slot: ContainerSlot): void {
    if (slot.timer === undefined) return;
    clearTimeout(slot.timer);
    slot.timer = undefined;
  }

  private onIdle(slot: ContainerSlot): void {
    slot.timer = undefined;
    if (this.table.closed || slot.gone || slot.idle === undefined || slot.activity.inFlight > 0) return;
    const brokenButRunning = slot.state === 'asleep' && slot.unready && slot.dockerState === 'running';
    if (slot.state !== 'awake' && !brokenButRunning) return;
    if (Date.now() < slot.activity.lastActivity + slot.idle.idleTimeoutMs) {
      this.arm(slot);
      return;
    }
    if (slot.hasAwakeDependent()) return; // the last dependent to sleep brings us along
    this.sleepNow(slot);
  }

  /**
   * Stops the container now, as its idle clock would (the dashboard's "sleep now"). False when
   * something vetoes it: a request or tunnel open, a wake or stop under way, not awake.
   */
  sleepOnRequest(slot: ContainerSlot): boolean {
    if (this.table.closed || slot.gone || slot.idle === undefined || slot.state !== 'awake') return false;
    if (slot.flight !== undefined || slot.stopping !== undefined || slot.activity.inFlight > 0) return false;
    this.sleepNow(slot);
    return true;
  }

  private sleepNow(slot: ContainerSlot): void {
    // Whoever asks (the idle clock, the last dependent going to sleep): anything open on the
    // container (a request, a websocket, a stream) vetoes the stop, decided here, in the same
    // tick as the Docker call below. Its release re-arms the clock.
    if (slot.flight !== undefined || slot.stopping !== undefined || slot.activity.inFlight > 0) return;
    this.clear(slot);
    const spec = slot.effectiveIdle();
    // Draining: takes no new picks from here on. Nothing is in flight (checked just above), so
    // the stop follows at once.
    slot.setState('draining');
    this.log.info({ module: 'wake', container: slot.name, method: spec.stopMethod }, 'idle: stopping container');
    slot.stopping = this.stopContainer(slot, spec).then(() => this.afterStop(slot));
  }

  private async stopContainer(slot: ContainerSlot, spec: IdleSpec): Promise<void> {
    // Docker's own grace is stop_timeout; give the API call a little longer before giving up.
    const deadline = Date.now() + spec.stopTimeoutMs + 15_000;
    try {
      if (spec.stopMethod === 'pause') {
        await withDeadline(this.control.pause(slot.id), deadline, slot);
        slot.dockerState = 'paused';
      } else if (spec.stopMethod === 'kill') {
        await withDeadline(this.control.kill(slot.id, spec.stopSignal), deadline, slot);
        // A graceful signal (SIGTERM, SIGINT…) only asks: the app may take a while to exit.
        slot.dockerState = await this.waitExited(slot, Date.now() + spec.stopTimeoutMs);
      } else {
        const timeoutSec = Math.max(0, Math.ceil(spec.stopTimeoutMs / 1000));
        await withDeadline(this.control.stop(slot.id, { timeoutSec, signal: spec.stopSignal }), deadline, slot);
        slot.dockerState = 'exited';
      }
      this.stopsTotal++;
    } catch (err) {
      this.log.error({ module: 'wake', container: slot.name, err }, 'stopping the idle container failed');
      try {
        slot.dockerState = (await this.control.inspect(slot.id)).state;
      } catch {
        // keep what we had; the next sync corrects it
      }
    }
  }

  /**
   * Polls inspect after a kill until the container no longer runs, for at most stop_timeout
   * (after that it is Docker's business; a container still running counts as a failed stop).
   * Returns the last state seen ('exited' when Docker could not be asked).
   */
  private async waitExited(slot: ContainerSlot, until: number): Promise<string> {
    let state: string | undefined;
    let delay = 20;
    for (;;) {
      try {
        state = (await this.control.inspect(slot.id)).state;
      } catch {
        // look again until the bound; the next sync corrects anything we miss
      }
      if (state !== undefined && state !== 'running' && state !== 'restarting') return state;
      if (this.table.closed || slot.gone || Date.now() + delay >= until) break;
      await new Promise<void>((r) => setTimeout(r, delay));
      delay = Math.min(Math.ceil(delay * 1.5), 250);
    }
    if (state === 'running') this.log.warn({ module: 'wake', container: slot.name }, 'container still running after kill and stop_timeout');
    return state ?? 'exited';
  }

  private afterStop(slot: ContainerSlot): void {
    slot.stopping = undefined;
    this.table.settled(slot);
    if (slot.flight !== undefined) return; // a request arrived while stopping: the wake carries on
    if (slot.dockerState === 'running') {
      // The stop failed: stay awake and try again after another idle period.
      slot.activity.lastActivity = Date.now();
      slot.setState('awake');
      this.arm(slot);
      return;
    }
    slot.unready = false;
    slot.setState('asleep');
    this.log.info({ module: 'wake', container: slot.name }, 'container is asleep');
    for (const dep of slot.deps) this.maybeStopDependency(dep);
  }

  private maybeStopDependency(dep: ContainerSlot): void {
    if (dep.gone || dep.flight !== undefined || dep.stopping !== undefined || dep.state !== 'awake') return;
    if (dep.hasAwakeDependent()) return;
    if (dep.idle !== undefined) {
      this.arm(dep); // its own clock decides (fires at once if already idle long enough)
      return;
    }
    // A container that serves routes of its own without sleep settings is not ours to stop.
    if (dep.members.length > 0) return;
    this.sleepNow(dep);
  }
}
