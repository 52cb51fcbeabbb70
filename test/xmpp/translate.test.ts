import { describe, expect, it } from "vitest";
import { envelopeToStanza, stanzaToEnvelope } from "../../src/xmpp/translate.js";
import { StanzaError, StreamError, mayReplyWithError } from "../../src/xmpp/errors.js";
import { answerDomainIq, isDomainIq } from "../../src/xmpp/domain-iq.js";
import { xml } from "../../src/xmpp/xml.js";

const sec = { auth: "certificate" as const };

describe("stanza <-> Envelope", () => {
  it("reads a message with body, subject and thread", () => {
    const el = xml("message", { from: "a@p.test/r", to: "b@corp.test", type: "chat", id: "m1" }, xml("subject", {}, "s"), xml("body", {}, "hi"), xml("thread", {}, "t"));
    const env = stanzaToEnvelope(el, "p.test", sec);
    expect(env).toMatchObject({ direction: "inbound", protocol: "xmpp", kind: "message", from: "a@p.test/r", to: "b@corp.test", partnerDomain: "p.test", type: "chat", body: "hi", subject: "s", thread: "t" });
    // Nothing of the wire text rides on the envelope.
    expect(env).not.toHaveProperty("original");
  });

  it("maps presence show/status to a rich state and subscriptions to their own kind", () => {
    const p = stanzaToEnvelope(xml("presence", { from: "a@p.test/r", to: "b@corp.test" }, xml("show", {}, "dnd"), xml("priority", {}, "5")), "p.test", sec);
    expect(p.kind).toBe("presence");
    expect(p.presence).toMatchObject({ priority: 5 });
    expect(p.presence?.state).toBe("dnd");
    const s = stanzaToEnvelope(xml("presence", { from: "a@p.test", to: "b@corp.test", type: "subscribe" }), "p.test", sec);
    expect(s).toMatchObject({ kind: "subscription", type: "subscribe" });
    expect(stanzaToEnvelope(xml("message", { from: "r@muc.p.test/n", to: "b@corp.test", type: "groupchat" }), "p.test", sec).kind).toBe("groupchat");
  });

  it("reads a message carrying an XEP-0066 or XEP-0447 link as a file transfer, and renders it with its link while the body is unchanged", () => {
    const url = "https://upload.p.test/f/report.pdf";
    const oob = xml("message", { from: "a@p.test/r", to: "b@corp.test", type: "chat" }, xml("body", {}, url), xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, url)));
    const env = stanzaToEnvelope(oob, "p.test", sec);
    expect(env).toMatchObject({ kind: "file-transfer", body: url, type: "chat" });
    const sfs = xml("message", { from: "a@p.test/r", to: "b@corp.test" }, xml("file-sharing", { xmlns: "urn:xmpp:sfs:0" }, xml("sources", {})));
    expect(stanzaToEnvelope(sfs, "p.test", sec).kind).toBe("file-transfer");
    // An x element of another namespace is not a link.
    expect(stanzaToEnvelope(xml("message", { from: "a@p.test", to: "b@corp.test" }, xml("x", { xmlns: "jabber:x:event" })), "p.test", sec).kind).toBe("message");

    const out = envelopeToStanza({ ...env, direction: "outbound", from: "b@corp.test/d", to: "a@p.test" }, "xmpp-rich");
    expect(out.name).toBe("message");
    expect(out.getChild("x", "jabber:x:oob")?.getChildText("url")).toBe(url);
    // A redacted link is rendered as redacted, not as it came.
    const redacted = envelopeToStanza({ ...env, direction: "outbound", from: "b@corp.test/d", to: "a@p.test", body: "[link removed]", links: [{ url: "[link removed]" }] }, "xmpp-rich");
    expect(redacted.getChild("x", "jabber:x:oob")?.getChildText("url")).toBe("[link removed]");
    expect(redacted.getChildText("body")).toBe("[link removed]");
  });

  it("renders an outbound message keeping the original stanza id", () => {
    const env = stanzaToEnvelope(xml("message", { from: "b@corp.test/d", to: "a@p.test", id: "orig" }, xml("body", {}, "x")), "p.test", sec);
    const el = envelopeToStanza({ ...env, direction: "outbound", body: "x [disclaimer]" }, "xmpp-rich");
    expect(el.attrs).toMatchObject({ id: "orig", from: "b@corp.test/d", to: "a@p.test" });
    expect(el.getChildText("body")).toBe("x [disclaimer]");
  });

  it("keeps known signals, never carbons, and an IQ's payload; unknown extensions are content like the rest", () => {
    const el = xml(
      "message",
      { xmlns: "jabber:server", from: "a@p.test/r", to: "b@corp.test", id: "o1", type: "chat" },
      xml("body", {}, "hi"),
      xml("active", { xmlns: "http://jabber.org/protocol/chatstates" }),
      xml("private", { xmlns: "urn:xmpp:carbons:2" }),
      xml("x", { xmlns: "urn:example:x" }, xml("note", { lang: "en" }, "text")),
    );
    const env = stanzaToEnvelope(el, "p.test", sec);
    expect(env.signals).toEqual([{ name: "active", ns: "http://jabber.org/protocol/chatstates", attrs: {}, children: [] }]);
    expect(env.extensions).toEqual([{ name: "x", ns: "urn:example:x", attrs: {}, children: [{ name: "note", ns: undefined, attrs: { lang: "en" }, children: ["text"] }] }]);
    const out = envelopeToStanza({ ...env, direction: "outbound" }, "xmpp-rich");
    expect(out.attrs.id).toBe("o1");
    expect(out.getChild("active", "http://jabber.org/protocol/chatstates")).toBeDefined();
    expect(out.getChild("private")).toBeUndefined();
    expect(out.getChild("x", "urn:example:x")?.getChildText("note")).toBe("text");
    expect(envelopeToStanza({ ...env, extensions: undefined }, "xmpp-rich").getChild("x", "urn:example:x")).toBeUndefined();
    const iq = stanzaToEnvelope(xml("iq", { from: "a@p.test/r", to: "b@corp.test/d", type: "get", id: "q1" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })), "p.test", sec);
    expect(envelopeToStanza(iq, "xmpp-rich").getChild("query", "http://jabber.org/protocol/disco#info")).toBeDefined();
  });

  it("gives an error stanza its <error/>: the one it came with, or undefined-condition", () => {
    const base = { id: "e1", receivedAt: 0, direction: "outbound" as const, protocol: "internal" as const, kind: "message" as const, from: "b@corp.test", to: "a@p.test", type: "error" };
    const bare = envelopeToStanza(base, "xmpp-rich");
    expect(bare.getChild("error")?.getChild("undefined-condition")).toBeDefined();
    const orig = StanzaError.from({ condition: "recipient-unavailable", text: "gone" }).toElement(xml("message", { from: "a@p.test", to: "b@corp.test", id: "x" }));
    const env = stanzaToEnvelope(orig, "p.test", sec);
    expect(env.error).toMatchObject({ condition: "recipient-unavailable", text: "gone" });
    const back = envelopeToStanza({ ...env, direction: "outbound" }, "xmpp-rich").getChild("error");
    expect(back?.getChild("recipient-unavailable")).toBeDefined();
    expect(back?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBe("gone");
  });

  it("renders rich presence per profile and offline as unavailable", () => {
    const base = { id: "1", receivedAt: 0, direction: "outbound" as const, protocol: "internal" as const, kind: "presence" as const, from: "b@corp.test/d", to: "a@p.test" };
    const rich = envelopeToStanza({ ...base, presence: { state: "on-the-phone" } }, "xmpp-rich");
    expect(rich.getChildText("show")).toBe("dnd");
    expect(rich.getChildText("status")).toBe("On the phone");
    const basic = envelopeToStanza({ ...base, presence: { state: "on-the-phone" } }, "xmpp-basic");
    expect(basic.getChildText("status")).not.toBe("On the phone");
    expect(envelopeToStanza({ ...base, presence: { state: "offline" } }, "xmpp-rich").attrs.type).toBe("unavailable");
    expect(envelopeToStanza({ ...base, kind: "subscription", type: "subscribed" }, "xmpp-rich").attrs.type).toBe("subscribed");
  });
});

describe("errors (RFC 6120 sections 4.9 and 8.3)", () => {
  it("serializes a stream error with its text", () => {
    expect(new StreamError("policy-violation", "a < b").toXml()).toBe(
      "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>a &lt; b</text></stream:error>",
    );
  });

  it("replies to a stanza with addresses swapped and the default error type", () => {
    const orig = xml("message", { from: "a@p.test/r", to: "b@corp.test", id: "m1" }, xml("body", {}, "secret"));
    const reply = StanzaError.from({ condition: "policy-violation", text: "blocked" }).toElement(orig);
    expect(reply.attrs).toMatchObject({ from: "b@corp.test", to: "a@p.test/r", id: "m1", type: "error" });
    expect(reply.getChild("error")?.attrs.type).toBe("modify");
    expect(reply.getChildText("body")).toBeNull();
    expect(StanzaError.fromStanza(reply)).toMatchObject({ condition: "policy-violation", text: "blocked", type: "modify" });
    expect(StanzaError.from({ condition: "made-up" }).condition).toBe("undefined-condition");
  });

  it("never answers an error with an error, nor an IQ result", () => {
    expect(mayReplyWithError(xml("message", { type: "error" }))).toBe(false);
    expect(mayReplyWithError(xml("iq", { type: "result" }))).toBe(false);
    expect(mayReplyWithError(xml("iq", { type: "get" }))).toBe(true);
  });

  it("answers ping and disco#info sent to the domain, and service-unavailable otherwise", () => {
    const ping = xml("iq", { from: "p.test", to: "corp.test", type: "get", id: "1" }, xml("ping", { xmlns: "urn:xmpp:ping" }));
    expect(isDomainIq(ping)).toBe(true);
    expect(answerDomainIq(ping)?.attrs).toMatchObject({ type: "result", from: "corp.test", to: "p.test", id: "1" });
    const disco = answerDomainIq(xml("iq", { from: "p.test", to: "corp.test", type: "get", id: "2" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    expect(disco?.getChild("query")?.getChild("identity")?.attrs).toMatchObject({ category: "server" });
    const other = answerDomainIq(xml("iq", { from: "p.test", to: "corp.test", type: "set", id: "3" }, xml("x", { xmlns: "urn:x" })));
    expect(other?.getChild("error")?.getChild("service-unavailable")).toBeDefined();
    expect(isDomainIq(xml("iq", { to: "bob@corp.test" }))).toBe(false);
  });
});
