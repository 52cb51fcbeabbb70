/**
 * Rich enterprise presence: the internal vocabulary. Partners see a mapping of
 * it (src/mapping) chosen by their profile.
 */
export const RICH_STATES = [
  "available",
  "away",
  "idle",
  "busy",
  "dnd",
  "on-the-phone",
  "in-a-meeting",
  "offline",
] as const;

export type RichState = (typeof RICH_STATES)[number];

export interface RichPresence {
  state: RichState;
  /** Free text the user set. */
  note?: string | undefined;
  /** XMPP priority of the device that produced it, if any. */
  priority?: number | undefined;
}

export function isRichState(value: string): value is RichState {
  return (RICH_STATES as readonly string[]).includes(value);
}
