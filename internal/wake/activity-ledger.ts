// The idle clock's input: what is open on a container now (requests, websockets and other
// tunnels, streaming responses) and when something last began or ended. Keyed by container ID
// and independent of the WakeManager's per-sync slots: a sync that drops a container from the
// managed picture and brings it back (an older container claiming its only alias for a while, a
// label_filter or expose_all reload) must not reset the count to zero under an open tunnel,
// whose release still points at the record it was counted on. The old per-slot counter did
// exactly that, and the new slot's clock then stopped the container under the tunnel.

export interface ContainerActivity {
  /** Requests and tunnels open now. While above zero the container is never stopped. */
  inFlight: number;
  /** ms since epoch of the last arrival or end. */
  lastActivity: number;
}

export class ActivityLedger {
  private readonly byId = new Map<string, ContainerActivity>();

  /** The container's record, created with nothing open and "last activity now" on first use. */
  of(id: string): ContainerActivity {
    let a = this.byId.get(id);
    if (a === undefined) {
      a = { inFlight: 0, lastActivity: Date.now() };
      this.byId.set(id, a);
    }
    return a;
  }

  /**
   * Counts one request or tunnel on `id` until the returned function is called (once; later
   * calls do nothing). `ended` runs after every release that leaves nothing open.
   */
  hold(id: string, ended: (a: ContainerActivity) => void): () => void {
    const a = this.of(id);
    a.inFlight++;
    a.lastActivity = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      a.inFlight--;
      a.lastActivity = Date.now();
      if (a.inFlight === 0) ended(a);
    };
  }

  /** Drops the record of a container no longer managed, unless something is still open on it. */
  forget(id: string): void {
    const a = this.byId.get(id);
    if (a !== undefined && a.inFlight === 0) this.byId.delete(id);
  }

  /** Records kept (for tests: forgotten containers do not pile up). */
  get size(): number {
    return this.byId.size;
  }
}
