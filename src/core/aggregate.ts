/**
 * Presence aggregation: one rich state for a user from all of their devices and
 * the other sources (phone, calendar, a manual setting).
 *
 * Precedence (first match wins):
 *   1. no available device                          -> offline
 *   2. a manual setting (admin or user override)     -> that state
 *   3. any device in do-not-disturb                  -> dnd
 *   4. the phone says a call is in progress          -> on-the-phone
 *   5. the calendar says a meeting is in progress    -> in-a-meeting
 *   6. any device on-the-phone / in-a-meeting / busy -> that state (in this order)
 *   7. any device available                          -> available
 *   8. any device away                               -> away
 *   9. every device idle                             -> idle ("idle on all clients")
 * The note comes from whatever decided the state; ties between devices go to
 * the higher priority, then the most recent change.
 */
import type { RichPresence, RichState } from "../model/presence.js";
import type { PresenceSource } from "./types.js";

export interface DeviceState {
  presence: RichPresence;
  priority: number;
  /** Monotonic counter of the last change, for ties. */
  changed: number;
}

const DEVICE_RANK: RichState[] = ["dnd", "on-the-phone", "in-a-meeting", "busy", "available", "away", "idle"];

export function aggregate(devices: Iterable<DeviceState>, sources: ReadonlyMap<PresenceSource, RichPresence>): RichPresence {
  let best: DeviceState | undefined;
  let bestRank = Number.MAX_SAFE_INTEGER;
  let any = false;
  for (const d of devices) {
    if (d.presence.state === "offline") continue;
    any = true;
    const rank = DEVICE_RANK.indexOf(d.presence.state);
    const r = rank < 0 ? DEVICE_RANK.length : rank;
    if (r < bestRank || (r === bestRank && best && (d.priority > best.priority || (d.priority === best.priority && d.changed > best.changed)))) {
      best = d;
      bestRank = r;
    }
  }
  if (!any || !best) return { state: "offline" };
  const manual = sources.get("manual");
  if (manual && manual.state !== "offline") return manual;
  if (best.presence.state === "dnd") return best.presence;
  const phone = sources.get("phone");
  if (phone && phone.state !== "offline" && phone.state !== "available") return phone;
  const calendar = sources.get("calendar");
  if (calendar && calendar.state !== "offline" && calendar.state !== "available") return calendar;
  return best.presence;
}

export function samePresence(a: RichPresence | undefined, b: RichPresence | undefined): boolean {
  return a?.state === b?.state && (a?.note ?? "") === (b?.note ?? "");
}
