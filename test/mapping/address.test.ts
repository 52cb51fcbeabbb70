import { describe, expect, it } from "vitest";
import { AddressError, jidToSip, sipToJid } from "../../src/mapping/address.js";
import { sipStatusToXmpp, xmppErrorToSip } from "../../src/mapping/sip-errors.js";

describe("RFC 7247 addresses", () => {
  it("maps SIP URIs to bare JIDs and back", () => {
    expect(sipToJid("sip:Alice@Partner.TEST")).toBe("alice@partner.test");
    expect(sipToJid("sips:bob@corp.test;transport=tls")).toBe("bob@corp.test");
    expect(sipToJid("sip:j%C3%BCrgen@corp.test")).toBe("jürgen@corp.test");
    expect(jidToSip("jürgen@corp.test/phone")).toBe("sip:j%C3%BCrgen@corp.test");
    expect(jidToSip("a.b+c@corp.test")).toBe("sip:a.b+c@corp.test");
    expect(jidToSip("a#b@corp.test")).toBe("sip:a%23b@corp.test");
  });

  it("refuses what has no counterpart with jid-malformed", () => {
    for (const bad of ["tel:+15551234", "sip:corp.test", "sip:a%40b@corp.test", "sip:a%ZZ@corp.test", "sip:a b@corp.test"]) {
      expect(() => sipToJid(bad), bad).toThrow(AddressError);
    }
    expect(() => jidToSip("corp.test")).toThrow(AddressError);
  });
});

describe("error mapping (RFC 7572 section 7)", () => {
  it("maps XMPP conditions to SIP statuses", () => {
    expect(xmppErrorToSip("policy-violation")).toEqual({ status: 403, reason: "Forbidden" });
    expect(xmppErrorToSip("item-not-found").status).toBe(404);
    expect(xmppErrorToSip("recipient-unavailable").status).toBe(480);
    expect(xmppErrorToSip("service-unavailable").status).toBe(503);
    expect(xmppErrorToSip("remote-server-timeout").status).toBe(408);
    expect(xmppErrorToSip("no-such-condition").status).toBe(500);
  });
  it("maps SIP statuses to XMPP conditions", () => {
    expect(sipStatusToXmpp(404, "Not Found")).toEqual({ condition: "item-not-found", type: "cancel", text: "404 Not Found" });
    expect(sipStatusToXmpp(486).condition).toBe("recipient-unavailable");
    expect(sipStatusToXmpp(408).condition).toBe("remote-server-timeout");
    expect(sipStatusToXmpp(302).condition).toBe("redirect");
    expect(sipStatusToXmpp(599).condition).toBe("internal-server-error");
    expect(sipStatusToXmpp(699).condition).toBe("service-unavailable");
  });
});
