// The single-flight wake: at most one start per container, however many requests ask, with its
// dependencies woken first, then the start (or unpause) and readiness polling until the route's
// health check passes (docs/sleep-and-wake.md: the HTTP healthcheck.path if set, else Docker's
// HEALTHCHECK, else a TCP connect), bounded by wake_timeout. Requests and callers only wait on
// the flight; a failure starts a cool-down during which further requests fail at once.
import type { MemberSpec } from '../routes/index.ts';
import { Prober } from '../health/index.ts';
import type { ContainerSlot, Flight, Waiter } from './container-slot.ts';
import type { IdleClock } from './idle-clock.ts';
import type { SlotTable } from './slot-table.ts';
import type { Logger } from '../../pkg/log/index.ts';
import type { WakeControl, WakeInspect } from './wake-control.ts';
import { withDeadline } from './wake-deadline.ts';
import { WakeError } from './wake-error.ts';

/** Reported once per finished wake attempt (success or failure): feed a histogram with it. */
export interface WakeRecord {
  containerId: string;
  container: string;
  ok: boolean;
  durationMs: number;
  code?: string | undefined;
  /** The member URL readiness passed at (a swarm service's task address: discovery lists it later). */
  url?: string | undefined;
}

/** The outcome of `ensureAwake`; never a rejection. */
export type WakeOutcome = { ok: true } | { ok: false; error: WakeError; retryAfterSec: number };

export interface WakerOptions {
  table: SlotTable;
  clock: IdleClock;
  control: WakeControl;
  log: Logger;
  coolDownMs: number;
  logLines: number;
}

export class Waker {
  wakesTotal = 0;
  wakeFailuresTotal = 0;
  /** Requests and callers waiting on a flight now. */
  held = 0;
  private readonly table: SlotTable;
  private readonly clock: IdleClock;
  private readonly control: WakeControl;
  private readonly log: Logger;
  private readonly coolDownMs: number;
  private readonly logLines: number;
  /** health's prober: wake readiness is the same check as the member's health check. */
  private readonly prober = new Prober();
  private readonly listeners = new Set<(r: WakeRecord) => void>();

  constructor(opts: WakerOptions) {
    this.table = opts.table;
    this.clock = opts.clock;
    this.control = opts.control;
    this.log = opts.log;
    this.coolDownMs = opts.coolDownMs;
    this.logLines = opts.logLines;
  }

  /** The running flight, a new one, or the cool-down error. Synchronous: single-flight. */
  request(slot: ContainerSlot): Flight | WakeError {
    if (slot.flight !== undefined) return slot.flight;
    if (this.table.closed || slot.gone) return new WakeError('WAKE_SHUTDOWN', 'not accepting wakes', { container: slot.name });
    if (slot.lastError !== undefined && Date.now() < slot.coolDownUntil) {
      const e = slot.lastError;
      return new WakeError('WAKE_COOLING_DOWN', `${slot.name} failed to start recently: ${e.message}`, {
        container: slot.name,
        exitCode: e.exitCode,
        logs: e.logs,
      });
    }
    const flight: Flight = { startedAt: Date.now(), waiters: new Set(), done: false, outcome: undefined };
    slot.flight = flight;
    slot.history = [];
    this.clock.clear(slot);
    slot.setState('waking');
    slot.emit('waking', `Waking ${slot.name}`);
    this.log.info({ module: 'wake', container: slot.name }, 'waking container');
    void this.runWake(slot)
      .then(
        () => this.finishWake(slot, flight, undefined),
        (err: unknown) => this.finishWake(slot, flight, this.asWakeError(err, slot)),
      )
      .catch((err: unknown) => this.log.error({ module: 'wake', container: slot.name, err }, 'wake bookkeeping failed'));
    return flight;
  }

  /**
   * Waits on `flight` (counted in `held`): `done` is told once how it ended. Returns `leave`,
   * which stops the wait when the waiter gives up first (a client that went away, an aborted
   * caller) and says whether it was still waiting; the wake goes on for the others.
   */
  join(flight: Flight, done: Waiter): () => boolean {
    const waiter: Waiter = (err) => {
      this.held--;
      done(err);
    };
    flight.waiters.add(waiter);
    this.held++;
    return () => {
      if (!flight.waiters.delete(waiter)) return false;
      this.held--;
      return true;
    };
  }

  /**
   * Wakes the container (and its dependencies) if needed and resolves when it is ready, or with
   * the failure. The wake goes on if `signal` aborts; only this wait ends.
   */
  ensureAwake(slot: ContainerSlot, signal?: AbortSignal): Promise<WakeOutcome> {
    const flight = this.request(slot);
    if (flight instanceof WakeError) return Promise.resolve(failureOutcome(flight, slot));
    return new Promise<WakeOutcome>((resolve) => {
      const aborted = (): WakeOutcome =>
        failureOutcome(new WakeError('WAKE_TIMEOUT', 'the caller stopped waiting', { container: slot.name }), slot);
      if (signal?.aborted) {
        resolve(aborted());
        return;
      }
      const onAbort = (): void => {
        if (leave()) resolve(aborted());
      };
      const leave = this.join(flight, (err) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(err === undefined ? { ok: true } : failureOutcome(err, slot));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Calls `listener` after every wake attempt. Returns an unsubscribe. */
  onWake(listener: (record: WakeRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Lets go of the prober's connections (a wake still polling ends: the table is closed). */
  close(): void {
    this.prober.close().catch((err: unknown) => this.log.warn({ module: 'wake', err }, 'closing the readiness prober failed'));
  }

  private waitFlight(flight: Flight): Promise<WakeError | undefined> {
    if (flight.done) return Promise.resolve(flight.outcome);
    return new Promise((resolve) => flight.waiters.add(resolve));
  }

  private async runWake(slot: ContainerSlot): Promise<void> {
    slot.readyUrl = undefined;
    if (slot.stopping !== undefined) {
      slot.emit('waking', `Waiting for ${slot.name} to finish stopping`);
      await slot.stopping;
    }
    for (const dep of slot.deps) {
      if (dep.state === 'awake') continue;
      slot.emit('dependency', `Waking dependency ${dep.name}`);
      const flight = this.request(dep);
      const err = flight instanceof WakeError ? flight : await this.waitFlight(flight);
      if (err !== undefined) {
        throw new WakeError('WAKE_DEPENDENCY_FAILED', `dependency ${dep.name} did not start: ${err.message}`, {
          container: slot.name,
          exitCode: err.exitCode,
          logs: err.logs,
          cause: err,
        });
      }
    }
    const deadline = Date.now() + slot.effectiveIdle().wakeTimeoutMs;
    slot.emit('starting', `Starting ${slot.name}`);
    await this.startContainer(slot, deadline);
    slot.emit('probing', `Waiting for ${slot.name} to be ready`);
    await this.waitReady(slot, deadline);
  }

  private async startContainer(slot: ContainerSlot, deadline: number): Promise<void> {
    const info = await withDeadline(this.control.inspect(slot.id), deadline, slot);
    slot.dockerState = info.state;
    if (info.state === 'running' || info.state === 'restarting') return;
    try {
      if (info.state === 'paused') await withDeadline(this.control.unpause(slot.id), deadline, slot);
      else await withDeadline(this.control.start(slot.id), deadline, slot);
    } catch (err) {
      if (err instanceof WakeError) throw err;
      // Someone else may have started it in between ("already started"): look before failing.
      const again = await withDeadline(this.control.inspect(slot.id), deadline, slot).catch(() => undefined);
      if (again?.state === 'running') return;
      throw new WakeError('WAKE_START_FAILED', `Docker could not start ${slot.name}: ${(err as Error).message}`, {
        container: slot.name,
        cause: err,
      });
    }
  }

  private async waitReady(slot: ContainerSlot, deadline: number): Promise<void> {
    // Looked up on every round: a swarm service's members (its tasks) change while it wakes.
    let member: MemberSpec | undefined;
    // Poll fast at first (most apps listen within a few hundred ms of start), then back off:
    // every ms here is added to the first request's latency.
    let delay = 10;
    let inspectErr: unknown;
    for (;;) {
      if (this.table.closed || slot.gone) throw new WakeError('WAKE_SHUTDOWN', 'stopped waiting: shutting down', { container: slot.name });
      let info: WakeInspect | undefined;
      try {
        info = await withDeadline(this.control.inspect(slot.id), deadline, slot);
      } catch (err) {
        if (err instanceof WakeError) throw err;
        // A blip (dockerd restarting with live-restore, a dropped SSH tunnel): the container
        // was started, so keep polling until wake_timeout rather than failing the wake.
        if (inspectErr === undefined) this.log.warn({ module: 'wake', container: slot.name, err }, 'inspect failed while waiting for readiness; retrying');
        inspectErr = err;
      }
      if (info === undefined) {
        if (Date.now() + delay >= deadline) {
          const ms = slot.effectiveIdle().wakeTimeoutMs;
          throw new WakeError('WAKE_TIMEOUT', `${slot.name} was not ready within wake_timeout (${ms} ms); Docker inspect failed: ${(inspectErr as Error)?.message ?? String(inspectErr)}`, {
            container: slot.name,
            cause: inspectErr,
          });
        }
        await new Promise<void>((r) => setTimeout(r, delay));
        delay = Math.min(Math.ceil(delay * 1.5), 200);
        continue;
      }
      member = slot.members[0];
      slot.dockerState = info.state;
      slot.dockerHealth = info.dockerHealth;
      slot.learnAddress(info);
      if (info.state === 'exited' || info.state === 'dead') {
        const code = info.exitCode;
        throw new WakeError('WAKE_EXITED', `${slot.name} exited${code === undefined ? '' : ` with code ${code}`} before it was ready`, {
          container: slot.name,
          exitCode: code,
          logs: await this.logsOf(slot),
        });
      }
      if (info.state === 'running' && (await this.probeOnce(slot, member, info, deadline))) return;
      if (Date.now() + delay >= deadline) {
        const ms = slot.effectiveIdle().wakeTimeoutMs;
        const addressless = member !== undefined && slot.memberUrl(member.id, member.url) === undefined;
        const why = addressless ? '; Docker gave it no address on the network Bellhop routes to' : '';
        throw new WakeError('WAKE_TIMEOUT', `${slot.name} was not ready within wake_timeout (${ms} ms)${why}`, {
          container: slot.name,
          logs: await this.logsOf(slot),
        });
      }
      await new Promise<void>((r) => setTimeout(r, delay));
      delay = Math.min(Math.ceil(delay * 1.5), 200);
    }
  }

  /**
   * One readiness check at the address Docker gave this start: the member's HTTP health check
   * if it has one, else Docker's HEALTHCHECK if the image has one, else a TCP connect. A
   * dependency without routes is ready when it runs and Docker does not call it unhealthy.
   */
  private async probeOnce(slot: ContainerSlot, member: MemberSpec | undefined, info: WakeInspect, deadline: number): Promise<boolean> {
    const remaining = Math.max(1, deadline - Date.now());
    if (member === undefined) return info.dockerHealth === undefined || info.dockerHealth === 'healthy';
    const hc = member.healthcheck;
    const base = slot.memberUrl(member.id, member.url);
    if (base === undefined) return false; // no address yet: look again (wake_timeout bounds it)
    slot.readyUrl = base.origin;
    if (hc.path !== undefined && hc.path !== '' && !hc.disable) {
      const timeoutMs = Math.min(hc.timeoutMs > 0 ? hc.timeoutMs : 5000, remaining);
      return (await this.prober.probe({ url: base.origin, noTlsVerify: member.noTlsVerify, healthcheck: { ...hc, timeoutMs } })).ok;
    }
    if (info.dockerHealth !== undefined) return info.dockerHealth === 'healthy';
    // A UDP stream member has nothing to connect to: running is ready (docs/streams.md).
    if (base.protocol === 'udp:') return true;
    const tcp = { ...hc, path: undefined, timeoutMs: Math.min(2000, remaining) };
    return (await this.prober.probe({ url: base.href, noTlsVerify: member.noTlsVerify, healthcheck: tcp })).ok;
  }

  private async logsOf(slot: ContainerSlot): Promise<string | undefined> {
    try {
      const text = await this.control.logsTail(slot.id, this.logLines);
      return text.trimEnd() === '' ? undefined : text.trimEnd();
    } catch (err) {
      this.log.warn({ module: 'wake', container: slot.name, err }, 'could not read container logs');
      return undefined;
    }
  }

  private asWakeError(err: unknown, slot: ContainerSlot): WakeError {
    if (err instanceof WakeError) return err;
    return new WakeError('WAKE_START_FAILED', `waking ${slot.name} failed: ${(err as Error)?.message ?? String(err)}`, {
      container: slot.name,
      cause: err,
    });
  }

  private finishWake(slot: ContainerSlot, flight: Flight, err: WakeError | undefined): void {
    flight.done = true;
    flight.outcome = err;
    if (slot.flight === flight) slot.flight = undefined;
    const now = Date.now();
    const durationMs = now - flight.startedAt;
    this.table.settled(slot, now);
    if (err === undefined) {
      this.wakesTotal++;
      slot.lastWakeMs = durationMs;
      slot.lastError = undefined;
      slot.unready = false;
      slot.activity.lastActivity = now;
      slot.setState('awake');
      slot.emit('ready', `${slot.name} is ready`);
      this.log.info({ module: 'wake', container: slot.name, ms: durationMs }, 'container is awake');
      this.clock.arm(slot);
    } else {
      this.wakeFailuresTotal++;
      slot.lastError = { code: err.code, message: err.message, exitCode: err.exitCode, logs: err.logs, at: now };
      slot.coolDownUntil = now + this.coolDownMs;
      slot.unready = slot.dockerState === 'running';
      slot.activity.lastActivity = now;
      slot.setState('asleep');
      slot.emit('failed', err.message, { code: err.code, message: err.message, exitCode: err.exitCode, logs: err.logs });
      this.log.error({ module: 'wake', container: slot.name, code: err.code, exitCode: err.exitCode, err }, 'wake failed');
      if (slot.unready) this.clock.arm(slot); // a running-but-broken container still goes back to sleep
    }
    const record: WakeRecord = { containerId: slot.id, container: slot.name, ok: err === undefined, durationMs, code: err?.code, ...(err === undefined && slot.readyUrl !== undefined ? { url: slot.readyUrl } : {}) };
    for (const l of this.listeners) {
      try {
        l(record);
      } catch (e) {
        this.log.error({ module: 'wake', err: e }, 'wake listener threw');
      }
    }
    const waiters = [...flight.waiters];
    flight.waiters.clear();
    for (const w of waiters) w(err);
  }
}

function failureOutcome(error: WakeError, slot: ContainerSlot): WakeOutcome {
  return { ok: false, error, retryAfterSec: slot.retryAfterSec() };
}
