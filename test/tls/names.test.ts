import { describe, expect, it } from "vitest";
import { hostedDomains, hostedNames, hostedSan } from "../../src/tls/names.js";

const cfg = {
  domains: ["Corp.test", "other.test"],
  tls: { services: ["conference", "pubsub.corp.test"], subdomains: ["upload"], per_domain: { "other.test": { services: ["rooms"] } } },
};

describe("hosted names", () => {
  it("qualifies labels, keeps full names, lets per-domain lists replace global ones", () => {
    expect(hostedDomains(cfg)).toEqual([
      { domain: "corp.test", services: ["conference.corp.test", "pubsub.corp.test"], subdomains: ["upload.corp.test"] },
      { domain: "other.test", services: ["rooms.other.test"], subdomains: ["upload.other.test"] },
    ]);
    expect(hostedNames(cfg)).toEqual(["corp.test", "conference.corp.test", "pubsub.corp.test", "upload.corp.test", "other.test", "rooms.other.test", "upload.other.test"]);
  });

  it("names domains and services as XmppAddr and SRVName, clients only for domains", () => {
    const san = hostedSan(hostedDomains(cfg));
    expect(san.xmppAddr).toEqual(["corp.test", "conference.corp.test", "pubsub.corp.test", "other.test", "rooms.other.test"]);
    expect(san.srv).toContain("_xmpp-client.corp.test");
    expect(san.srv).toContain("_xmpp-server.rooms.other.test");
    expect(san.srv).not.toContain("_xmpp-client.rooms.other.test");
    expect(san.dns).not.toContain("_xmpp-server.corp.test");
  });
});
