/**
 * A set-up step ran out of the per-target time. Kept apart from other
 * failures because it decides remote-server-timeout over
 * remote-server-not-found (RFC 6120 section 8.3.3) for the bounced stanzas.
 */
export class SetupTimeout extends Error {
  override name = "SetupTimeout";
}

/** What is left of a deadline, never below 1 ms so a timer still fires. */
export function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}
