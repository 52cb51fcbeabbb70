/**
 * Presence documents for SIP partners: PIDF (RFC 3863) with the data model of
 * RFC 4479 and RPID activities (RFC 4480), plus the availability number Lync
 * style partners read (Microsoft's presence state schema). A rich state is
 * sent through the state map as a SIP partner state; what a partner sends is
 * read back to a SIP partner state, which the map turns into a rich state.
 */
import { descendants, parsePidfXml, PidfXmlError, type PidfNode } from "./pidf-xml.js";
import type { RichPresence } from "../model/presence.js";
import { shippedStateMap, type Profile, type SipState, type StateMap, SIP_STATES } from "./state-map.js";

export const PIDF_TYPE = "application/pidf+xml";
const NS_PIDF = "urn:ietf:params:xml:ns:pidf";
const NS_DM = "urn:ietf:params:xml:ns:pidf:data-model";
const NS_RPID = "urn:ietf:params:xml:ns:pidf:rpid";
const NS_MS_STATE = "http://schemas.microsoft.com/2006/09/sip/state";

interface Rendering {
  basic: "open" | "closed";
  /** RFC 4480 section 3.2 activity element, if any. */
  activity?: string;
  /** RFC 4480 section 3.13 user-input. */
  idle?: boolean;
  /** Lync canonical availability number. */
  availability: number;
}

const RENDER: Record<SipState, Rendering> = {
  available: { basic: "open", availability: 3500 },
  "available-idle": { basic: "open", idle: true, availability: 4500 },
  idle: { basic: "open", activity: "away", idle: true, availability: 15500 },
  away: { basic: "open", activity: "away", availability: 15500 },
  "be-right-back": { basic: "open", activity: "away", availability: 12500 },
  busy: { basic: "open", activity: "busy", availability: 6500 },
  "busy-idle": { basic: "open", activity: "busy", idle: true, availability: 7500 },
  // RPID has no do-not-disturb: busy is the nearest activity; Lync reads the number.
  "do-not-disturb": { basic: "open", activity: "busy", availability: 9500 },
  "on-the-phone": { basic: "open", activity: "on-the-phone", availability: 6500 },
  meeting: { basic: "open", activity: "meeting", availability: 6500 },
  offline: { basic: "closed", availability: 18500 },
};

/** Microsoft's availability ranges: the lower bound of each band and its state. */
const AVAILABILITY_BANDS: [number, SipState][] = [
  [18000, "offline"],
  [15000, "away"],
  [12000, "be-right-back"],
  [9000, "do-not-disturb"],
  [7500, "busy-idle"],
  [6000, "busy"],
  [4500, "available-idle"],
  [3000, "available"],
];

export function availabilityState(n: number): SipState | undefined {
  for (const [floor, state] of AVAILABILITY_BANDS) if (n >= floor) return state;
  return undefined;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isSipState(s: string): s is SipState {
  return (SIP_STATES as readonly string[]).includes(s);
}

/** Rich state names (what xmpp-* profiles send) as SIP partner states. */
const RICH_AS_SIP: Record<string, SipState> = { dnd: "do-not-disturb", "in-a-meeting": "meeting" };

/** The PIDF document for one presentity, rendered for a partner profile. */
export function toPidf(entity: string, p: RichPresence, profile: Profile, map: StateMap = shippedStateMap()): string {
  const sent = map.send(profile, p.state);
  const state = RICH_AS_SIP[sent] ?? sent;
  const r = RENDER[isSipState(state) ? state : "away"];
  const note = p.note ? `<note>${esc(p.note)}</note>` : "";
  const person: string[] = [];
  if (r.activity) person.push(`<rpid:activities><rpid:${r.activity}/></rpid:activities>`);
  if (r.idle) person.push(`<rpid:user-input>idle</rpid:user-input>`);
  if (profile === "lync") person.push(`<ms:state type="aggregateState"><ms:availability>${r.availability}</ms:availability></ms:state>`);
  if (p.note) person.push(`<dm:note>${esc(p.note)}</dm:note>`);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<presence xmlns="${NS_PIDF}" xmlns:dm="${NS_DM}" xmlns:rpid="${NS_RPID}" xmlns:ms="${NS_MS_STATE}" entity="${esc(entity)}">` +
    `<tuple id="t1"><status><basic>${r.basic}</basic></status>${note}</tuple>` +
    `<dm:person id="p1">${person.join("")}</dm:person>` +
    `</presence>`
  );
}

export class PidfError extends Error {
  readonly condition = "bad-request";
}

function local(name: string): string {
  const i = name.indexOf(":");
  return i >= 0 ? name.slice(i + 1) : name;
}

/** Reads a partner's PIDF document to the SIP partner state and note it carries. */
export function readPidf(xml: string): { state: string; note?: string } {
  // RFC 3863 carries no DTD; ltx would swallow one silently, so refuse declarations outright.
  if (/<!(?:DOCTYPE|ENTITY|\[CDATA)/i.test(xml)) throw new PidfError("PIDF with a DTD or CDATA is not accepted");
  let root: PidfNode;
  try {
    root = parsePidfXml(xml.replace(/^\s*<\?xml[^?]*\?>/, ""));
  } catch (err) {
    if (!(err instanceof PidfXmlError)) throw err;
    throw new PidfError(`PIDF is not well-formed: ${err.message}`);
  }
  if (!root || local(root.name) !== "presence") throw new PidfError("not a PIDF presence document");

  let note: string | undefined;
  let availability: number | undefined;
  let activity: string | undefined;
  let idle = false;
  let open = false;
  for (const el of descendants(root)) {
    const name = local(el.name);
    if (name === "availability" && availability === undefined) {
      const n = Number.parseInt(el.text.trim(), 10);
      if (Number.isFinite(n)) availability = n;
    } else if (name === "basic" && el.text.trim() === "open") {
      open = true;
    } else if (name === "activities" && activity === undefined) {
      const first = el.children.map((k) => local(k.name)).find((n) => n !== "unknown" && n !== "other");
      if (first) activity = first;
    } else if (name === "user-input" && el.text.trim() === "idle") {
      idle = true;
    } else if (name === "note" && note === undefined) {
      const t = el.text.trim();
      if (t) note = t;
    }
  }
  const withNote = (state: string) => (note ? { state, note } : { state });
  if (availability !== undefined) {
    const s = availabilityState(availability);
    if (s) return withNote(s);
  }
  if (!open) return withNote("offline");
  if (activity) return withNote(activity);
  if (idle) return withNote("idle");
  return withNote("available");
}

/** A partner's PIDF -> rich presence, through the profile's receive column. */
export function fromPidf(xml: string, profile: Profile, map: StateMap = shippedStateMap()): RichPresence {
  const read = readPidf(xml);
  const state = map.receive(profile, read.state);
  return read.note ? { state, note: read.note } : { state };
}
