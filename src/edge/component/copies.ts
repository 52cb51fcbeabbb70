/**
 * Traffic between two hosted addresses that reaches the edge: compliance
 * copies (a policy `copy` verdict sends the supervision desk what an internal
 * user sent a partner). An internal server accepts on a component stream only
 * addresses of the component's own domain (Prosody ends the whole stream with
 * invalid-from otherwise), so the copy goes on one of that server's partner
 * streams from the component's domain, and says whose message it was with
 * XEP-0033's ofrom address.
 */
import type { Envelope } from "../../model/envelope.js";
import type { XNode } from "../../model/content.js";
import type { ComponentLink } from "./link.js";

const NS_ADDRESS = "http://jabber.org/protocol/address";

/** The link a copy travels on (an online one first) and the copy as that link may carry it. */
export function internalCopy(envelope: Envelope, links: ComponentLink[]): { link: ComponentLink; envelope: Envelope } | undefined {
  const link = links.find((l) => l.state === "online") ?? links[0];
  if (!link) return undefined;
  const addresses: XNode = {
    name: "addresses",
    ns: NS_ADDRESS,
    attrs: {},
    children: [{ name: "address", attrs: { type: "ofrom", jid: envelope.from }, children: [] }],
  };
  return { link, envelope: { ...envelope, from: link.opts.domain, extensions: [...(envelope.extensions ?? []), addresses] } };
}
