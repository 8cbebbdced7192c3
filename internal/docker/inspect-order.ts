// Which inspect result may update a container's record: per container, the latest inspect
// issued wins, whatever order the answers come back in. An inspect is issued after the event
// that asked for it, so the latest one issued has seen every event received so far; an older
// answer arriving late (a slow engine, a retry) is dropped instead of overwriting it.
//
// Ordering is per container on purpose: an inspect of one container can block for as long as
// the engine holds that container's lock (during its start, network setup included: seen
// 0.6-1.4 s on a busy engine), and must not hold back the answer about another container.

export class InspectOrder {
  private seq = 0;
  /** Per container: the seq whose result is in the snapshot (or removed it). */
  private readonly applied = new Map<string, number>();
  /** Per container: inspects issued whose result was not handled yet. */
  private readonly pending = new Map<string, number>();

  /** Called right before an inspect of `id` is sent; returns its sequence number. */
  issue(id: string): number {
    this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
    return ++this.seq;
  }

  /**
   * Hands in the result of inspect `seq` of `id` (once per issued inspect). True when it is newer
   * than the last one accepted for `id`: apply it. False: an older answer came late; drop it.
   */
  accept(id: string, seq: number): boolean {
    const left = (this.pending.get(id) ?? 1) - 1;
    if (left > 0) this.pending.set(id, left);
    else this.pending.delete(id);
    const fresh = seq > (this.applied.get(id) ?? 0);
    if (fresh) this.applied.set(id, seq);
    return fresh;
  }

  /** `id` is no longer in the snapshot: forget it once no older answer can still arrive. */
  forget(id: string): void {
    if (!this.pending.has(id)) this.applied.delete(id);
  }

  /** Containers remembered (for tests: it must not grow with every container ever removed). */
  get size(): number {
    return this.applied.size;
  }
}
