/**
 * A partner-side user: @xmpp/client logged in to a partner server's c2s port,
 * trusting the test CA, collecting what it receives.
 */
// @ts-ignore -- @xmpp/client ships no type declarations
import { client, xml } from "@xmpp/client";
import { checkCertificateAs, trustTestCa } from "./xmpp-tls.js";
import { Changes } from "./wait.js";
import type { Element } from "../../src/xmpp/xml.js";

export interface PartnerUser {
  jid: string;
  received: Element[];
  send(el: Element): Promise<void>;
  message(to: string, body: string, id?: string): Promise<void>;
  presence(attrs?: Record<string, string>, children?: Element[]): Promise<void>;
  waitFor(match: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
  stop(): Promise<void>;
}

export async function loginPartnerUser(o: {
  address: string;
  port?: number;
  domain: string;
  username: string;
  password: string;
  caPem: string;
  /** The name the server's certificate carries when it deliberately does not name `domain`. */
  certName?: string;
}): Promise<PartnerUser> {
  trustTestCa(o.caPem);
  if (o.certName) checkCertificateAs(o.domain, o.certName);
  const xmpp = client({ service: `xmpp://${o.address}:${o.port ?? 15222}`, domain: o.domain, username: o.username, password: o.password, resource: "test", timeout: 15_000 });
  const received: Element[] = [];
  const changes = new Changes();
  xmpp.on("error", () => undefined);
  xmpp.on("stanza", (el: Element) => {
    if (received.length < 10_000) received.push(el);
    changes.notify();
  });
  const address = await xmpp.start();
  return {
    jid: String(address),
    received,
    send: (el) => xmpp.send(el),
    message: (to, body, id) => xmpp.send(xml("message", { to, type: "chat", id }, xml("body", {}, body))),
    presence: (attrs = {}, children = []) => xmpp.send(xml("presence", attrs, ...children)),
    waitFor(match, timeoutMs = 10_000) {
      return changes.until(() => received.find(match), timeoutMs, () => `no matching stanza; got ${received.map((r) => r.toString().slice(0, 200)).join("\n")}`);
    },
    async stop() {
      await xmpp.stop().catch(() => undefined);
    },
  };
}
