/**
 * RFC 6120 section 8.2.3: IQ semantics. A get or set carries exactly one
 * payload; what this server does not handle is service-unavailable (8.4),
 * including IQs addressed to other users, which are not relayed.
 */
import { StanzaError } from "../../xmpp/errors.js";
import type { Element } from "../../xmpp/xml.js";
import { NS } from "./ns.js";
import type { C2sSession } from "./session.js";
import { rosterIq } from "./roster.js";
import { discoIq, pingIq } from "./disco.js";
import { carbonsIq } from "./carbons.js";
import { blockingIq } from "./blocking.js";

export type IqHandler = (s: C2sSession, iq: Element, payload: Element) => Promise<void> | void;

/** By "namespace payload-name". */
const HANDLERS = new Map<string, IqHandler>([
  [`${NS.roster} query`, rosterIq],
  [`${NS.ping} ping`, pingIq],
  [`${NS.discoInfo} query`, discoIq],
  [`${NS.discoItems} query`, discoIq],
  [`${NS.carbons} enable`, carbonsIq],
  [`${NS.carbons} disable`, carbonsIq],
  [`${NS.blocking} blocklist`, blockingIq],
  [`${NS.blocking} block`, blockingIq],
  [`${NS.blocking} unblock`, blockingIq],
  // RFC 3921 session establishment: obsolete, answered for old clients (RFC 6121 Appendix E).
  [`${NS.session} session`, (s, iq) => s.result(iq)],
]);

export async function handleIq(s: C2sSession, iq: Element): Promise<void> {
  const type = iq.attrs.type;
  if (type === "result" || type === "error") return; // answers to our pushes
  if (type !== "get" && type !== "set") throw new StanzaError("bad-request", "iq type must be get, set, result or error");
  if (!iq.attrs.id) throw new StanzaError("bad-request", "iq needs an id");
  const children = iq.getChildElements();
  if (children.length !== 1) throw new StanzaError("bad-request", "a get or set carries exactly one payload");
  const to = iq.attrs.to;
  const forServer = to === undefined || to === s.domain || to === s.bare || to === s.full;
  const payload = children[0]!;
  const handler = HANDLERS.get(`${payload.attrs.xmlns ?? ""} ${payload.name}`);
  // A roster query to another account is refused as such (RFC 6121 2.1.5), not as unknown.
  if (!handler || (!forServer && payload.attrs.xmlns !== NS.roster)) throw new StanzaError("service-unavailable");
  await handler(s, iq, payload);
}
