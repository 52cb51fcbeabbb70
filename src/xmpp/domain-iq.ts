/**
 * IQs addressed to a hosted domain itself (no localpart) are answered by the
 * gateway: XEP-0199 ping and XEP-0030 disco#info; anything else gets
 * service-unavailable (RFC 6120 section 8.4) rather than going to the core.
 */
import { StanzaError } from "./errors.js";
import { xml, type Element } from "./xml.js";
import { NS_DISCO_INFO, NS_PING, NS_SERVER } from "./ns.js";

export function isDomainIq(el: Element): boolean {
  return el.name === "iq" && !!el.attrs.to && !el.attrs.to.includes("@") && !el.attrs.to.includes("/");
}

/** The reply to an IQ sent to the domain, or undefined when none is due (results and errors). */
export function answerDomainIq(el: Element): Element | undefined {
  const type = el.attrs.type;
  if (type !== "get" && type !== "set") return undefined;
  const reply = (...children: Element[]) => xml("iq", { xmlns: NS_SERVER, type: "result", id: el.attrs.id, from: el.attrs.to, to: el.attrs.from }, ...children);
  if (type === "get" && el.getChild("ping", NS_PING)) return reply();
  if (type === "get" && el.getChild("query", NS_DISCO_INFO) && !el.getChild("query", NS_DISCO_INFO)?.attrs.node) {
    return reply(
      xml(
        "query",
        { xmlns: NS_DISCO_INFO },
        xml("identity", { category: "server", type: "im", name: "demarc" }),
        xml("feature", { var: NS_DISCO_INFO }),
        xml("feature", { var: NS_PING }),
      ),
    );
  }
  return new StanzaError("service-unavailable").toElement(el);
}
