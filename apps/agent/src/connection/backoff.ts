/**
 * Reconnect delays: exponential from `baseMs`, capped at `capMs`, with "equal jitter" (half the
 * bound plus a uniform draw over the other half), so delays keep growing while a fleet
 * reconnecting after a control-plane restart spreads out instead of arriving in waves.
 */
export function backoffDelay(attempt: number, random: () => number, baseMs = 1_000, capMs = 60_000): number {
  const bound = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(bound / 2 + random() * (bound / 2));
}
