import type { Shell } from "./context";

/**
 * The guard of an entry point that is not one client's step (a datagram before it reaches a session,
 * the timer): an exception is logged and counted (sessionFaults) and the gateway goes on. Steps of a
 * session have their own guard (effects.ts), which also ends that session.
 */
export function guarded(shell: Shell, entry: string, fields: Record<string, unknown>, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    shell.counters.sessionFaults++;
    const error = err instanceof Error ? err : new Error(String(err));
    shell.log.error("entry-fault", { entry, ...fields, error: error.message, stack: error.stack });
  }
}
