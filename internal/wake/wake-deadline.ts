// A Docker call bounded by a wall-clock deadline (wake_timeout for a wake, stop_timeout plus
// a margin for a stop), for the waker and the idle clock alike.
import type { ContainerSlot } from './container-slot.ts';
import { WakeError } from './wake-error.ts';

// Node's timers overflow past 2^31-1 ms (~24.8 days) and fire after 1 ms instead; longer
// durations (idle_timeout 30d) arm this much and re-arm when it fires early.
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `p`, or a WAKE_TIMEOUT rejection once `deadline` (ms since epoch) passes. */
export async function withDeadline<T>(p: Promise<T>, deadline: number, slot: ContainerSlot): Promise<T> {
  p.catch(() => undefined); // a late rejection after the deadline must not go unhandled
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const arm = (): void => {
      const ms = deadline - Date.now();
      if (ms > 0) {
        timer = setTimeout(arm, Math.min(MAX_TIMER_MS, ms)); // re-arms past the timer limit
        return;
      }
      const wake = slot.effectiveIdle().wakeTimeoutMs;
      reject(new WakeError('WAKE_TIMEOUT', `${slot.name} was not ready within wake_timeout (${wake} ms)`, { container: slot.name }));
    };
    const ms = deadline - Date.now();
    timer = setTimeout(arm, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
