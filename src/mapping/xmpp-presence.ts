/**
 * Rich presence <-> XMPP presence (RFC 6121 section 4.7.2: show, status).
 *
 * XMPP has four availability values; our rich vocabulary has more. The
 * "xmpp-rich" profile keeps the rich meaning in show plus a canonical status
 * text ("On the phone"), so a partner's user reads what our user is doing and a
 * round trip through XMPP restores the same rich state. The "xmpp-basic"
 * profile reduces to available / away / unavailable for partners whose clients
 * misrender dnd or xa. Coming back, an XMPP presence maps to the nearest rich
 * state; a status that is one of our own canonical texts restores that state.
 */
import { isRichState, type RichPresence, type RichState } from "../model/presence.js";
import { shippedStateMap, type StateMap } from "./state-map.js";

export type XmppProfile = "xmpp-rich" | "xmpp-basic";
export type XmppShow = "away" | "chat" | "dnd" | "xa";

export interface XmppPresence {
  type?: "unavailable";
  show?: XmppShow;
  status?: string;
}

/**
 * How the rich states that XMPP cannot name natively go out under xmpp-rich:
 * the show value (RFC 6121 4.7.2.1: dnd is "busy") and the canonical text.
 */
const RICH_LABELS: Partial<Record<RichState, { show: XmppShow; label: string }>> = {
  busy: { show: "dnd", label: "Busy" },
  "on-the-phone": { show: "dnd", label: "On the phone" },
  "in-a-meeting": { show: "dnd", label: "In a meeting" },
  idle: { show: "xa", label: "Idle" },
};

/** Separates a canonical label from the user's own note inside one status. */
const LABEL_SEPARATOR = ": ";

function withStatus(x: XmppPresence, status: string | undefined): XmppPresence {
  if (status !== undefined && status !== "") x.status = status;
  return x;
}

/** The profile's send column of the state map picks the state; this renders it. */
export function toXmppPresence(p: RichPresence, profile: XmppProfile, map: StateMap = shippedStateMap()): XmppPresence {
  const note = p.note;
  const sent = map.send(profile, p.state);
  const state: RichState = isRichState(sent) ? sent : "away";
  if (state === "offline") return withStatus({ type: "unavailable" }, note);
  if (state === "available") return withStatus({}, note);
  if (state === "away") return withStatus({ show: "away" }, note);
  if (state === "dnd") return withStatus({ show: "dnd" }, note);
  const rich = RICH_LABELS[state];
  if (!rich) return withStatus({ show: "away" }, note);
  const status = note ? `${rich.label}${LABEL_SEPARATOR}${note}` : rich.label;
  return { show: rich.show, status };
}

/** Reads a status back into a rich state when it carries one of our canonical labels. */
function parseLabel(status: string | undefined): { state: RichState; note?: string } | undefined {
  if (!status) return undefined;
  const text = status.trim();
  for (const [state, rich] of Object.entries(RICH_LABELS) as [RichState, { label: string }][]) {
    if (text.toLowerCase() === rich.label.toLowerCase()) return { state };
    const prefix = `${rich.label}${LABEL_SEPARATOR}`.toLowerCase();
    if (text.toLowerCase().startsWith(prefix)) {
      const rest = text.slice(prefix.length).trim();
      return rest ? { state, note: rest } : { state };
    }
  }
  return undefined;
}

function rich(state: RichState, note: string | undefined): RichPresence {
  return note !== undefined && note !== "" ? { state, note } : { state };
}

export function fromXmppPresence(x: { type?: string; show?: string; status?: string }): RichPresence {
  const type = x.type ?? "available";
  // RFC 6121 4.7.1: "unavailable" (and an error in place of presence) means gone.
  if (type !== "available") return rich("offline", x.status);

  const show = x.show?.trim();
  // RFC 6121 4.7.2.1: absent show means available; chat is "available and eager".
  if (show === undefined || show === "" || show === "chat") return rich("available", x.status);

  const labelled = parseLabel(x.status);
  if (show === "dnd") {
    if (labelled && labelled.state !== "idle") return rich(labelled.state, labelled.note);
    return rich("dnd", x.status);
  }
  if (show === "away" || show === "xa") {
    // A partner's status is free text; only our own labels carry a rich meaning.
    if (labelled) return rich(labelled.state, labelled.note);
    return rich("away", x.status);
  }
  // Unknown show values (RFC 6121 says the set is closed): nearest is away.
  return rich("away", x.status);
}
