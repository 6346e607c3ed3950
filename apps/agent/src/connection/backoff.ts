/**
 * Reconnect delays: exponential from `baseMs`, capped at `capMs`, with "equal jitter" (half the
 * bound plus a uniform draw over the other half), so delays keep growing while a fleet
 * reconnecting after a control-plane restart spreads out instead of arriving in waves.
 */
export function backoffDelay(attempt: number, random: () => number, baseMs = 1_000, capMs = 60_000): number {
  const bound = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(bound / 2 + random() * (bound / 2));
}

/**
 * After the control plane announced its own restart (it closed a welcomed session with 1001
 * "going away"), its new process is expected within seconds: the agent retries within a short
 * jittered window (a fleet still spreads over it) instead of escalating towards a minute, for a
 * bounded number of tries; then the usual backoff takes over.
 */
export const RESTART_WINDOW_MS = 4_000;
export const RESTART_TRIES = 10;

/** Where the reconnect schedule stands: failed tries since the last welcome, and restart tries left. */
export interface ReconnectState {
  attempt: number;
  restartTriesLeft: number;
}

/** How the last session ended: welcomed then lost (`restartAnnounced` for a 1001 close), or never welcomed. */
export type SessionOutcome = { welcomed: true; restartAnnounced: boolean } | { welcomed: false };

export const INITIAL_RECONNECT: ReconnectState = { attempt: 0, restartTriesLeft: 0 };

/** The delay before the next session and the schedule's new state. */
export function nextReconnect(state: ReconnectState, outcome: SessionOutcome, random: () => number): { delayMs: number; state: ReconnectState } {
  if (outcome.welcomed && outcome.restartAnnounced) {
    return { delayMs: Math.floor(random() * RESTART_WINDOW_MS), state: { attempt: 0, restartTriesLeft: RESTART_TRIES } };
  }
  if (outcome.welcomed) return { delayMs: backoffDelay(0, random), state: INITIAL_RECONNECT };
  if (state.restartTriesLeft > 0) {
    return { delayMs: Math.floor(random() * RESTART_WINDOW_MS), state: { attempt: 0, restartTriesLeft: state.restartTriesLeft - 1 } };
  }
  const attempt = state.attempt + 1;
  return { delayMs: backoffDelay(attempt, random), state: { attempt, restartTriesLeft: 0 } };
}
