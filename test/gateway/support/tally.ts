/** What the model test's runs went through, summed over a test file: printed, and checked to be non-trivial. */
export interface Tally {
  runs: number;
  commands: number;
  crashes: number;
  /** Crashes with messages in the store, which the next process must resume. */
  crashesWithStoredMessages: number;
  writesLostInCrashes: number;
  guardedMessages: number;
  acknowledgedUpstream: number;
  /** Guarded messages whose custody went through the disk (stored, then acknowledged upstream). */
  storedThenDelivered: number;
  /** Checks that found a guarded message acknowledged upstream, not yet received, and held in the store. */
  heldInStore: number;
  /** Guarded messages that reached their device only after a crash and restart. */
  deliveredAfterRestart: number;
  /** Guarded messages received more than once with DUP clear (a new PUBLISH, not a retransmission). */
  duplicatesQoS1: number;
  duplicatesQoS2: number;
  refetches: number;
  deferred: number;
  takeovers: number;
  /** Messages the full disk refused (left unacknowledged at the broker). */
  storeRefusals: number;
  /** Runs with a durable store. */
  durableRuns: number;
}

export function newTally(): Tally {
  return {
    runs: 0,
    commands: 0,
    crashes: 0,
    crashesWithStoredMessages: 0,
    writesLostInCrashes: 0,
    guardedMessages: 0,
    acknowledgedUpstream: 0,
    storedThenDelivered: 0,
    heldInStore: 0,
    deliveredAfterRestart: 0,
    duplicatesQoS1: 0,
    duplicatesQoS2: 0,
    refetches: 0,
    deferred: 0,
    takeovers: 0,
    storeRefusals: 0,
    durableRuns: 0,
  };
}
