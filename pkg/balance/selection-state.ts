// The mutable selection state one Pool owns. Selectors are plain functions over it so each mode
// lives in its own file and none of them does I/O or allocates on the first pick.

/** Tells the pool which members may take new requests (healthy, awake, not draining). */
export interface MemberUsability {
  isUsable(memberId: string): boolean;
}

/** In-flight counter of one member id; outlives the member while requests are still open. */
export interface InFlightCounter {
  count: number;
  /** false once the member left the pool; the counter is dropped when it reaches 0. */
  present: boolean;
}

export interface MemberEntry<M> {
  readonly member: M;
  readonly id: string;
  /** Normalised weight (0..100). */
  readonly weight: number;
  /** Weight used for selection: the normalised weight, at least 1. */
  readonly selectionWeight: number;
  /** Exact (unrounded) share of 100, > 0: the rendezvous weight. */
  readonly exactWeight: number;
  /** 32-bit hash of the stable identity, for rendezvous hashing. */
  readonly identityHash: number;
  /** Keyed hash of the identity named by sticky tokens ('' when the pool is not sticky). */
  stickyKey: string;
  /**
   * The last Set-Cookie issued for this member. Tokens carry their issue time in whole seconds,
   * so every new visitor sent to this member within one second gets the same token: signing
   * once per member per second instead of once per visitor.
   */
  cookieCache?: { second: number; secure: boolean; maxAgeMs: number; stickyKey: string; value: string } | undefined;
  readonly inFlight: InFlightCounter;
  /** Scratch mark: equals SelectionState.epoch when usable during the current pick. */
  mark: number;
}

export interface SelectionState<M> {
  /** Members in canonical order (by name, then id). */
  entries: MemberEntry<M>[];
  /** Smooth weighted round-robin cycle: one slot per unit of selection weight. */
  schedule: MemberEntry<M>[];
  /** Next slot of `schedule`; keeps going across membership changes. */
  cursor: number;
  epoch: number;
  /** Every entry has the same exact weight: rendezvous can compare raw hashes. */
  equalWeights: boolean;
}
