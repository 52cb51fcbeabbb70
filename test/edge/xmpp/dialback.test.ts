import { describe, expect, it } from "vitest";
import { dialbackKey, verifyDialbackKey } from "../../../src/edge/xmpp/dialback-keys.js";
import { answerVerify, resultResponse } from "../../../src/edge/xmpp/dialback.js";
import { decodeAuthzid, encodeAuthzid, offersExternal } from "../../../src/edge/xmpp/sasl-external.js";
import { xml } from "../../../src/xmpp/xml.js";

describe("dialback keys (XEP-0185)", () => {
  it("matches the example of XEP-0185 section 3 and XEP-0220", () => {
    // Secret "s3cr3tf0rd14lb4ck", receiving xmpp.example.com, originating example.org, stream id D60000229F.
    expect(dialbackKey("s3cr3tf0rd14lb4ck", "xmpp.example.com", "example.org", "D60000229F")).toBe(
      "37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643",
    );
  });

  it("binds the key to both domains and the stream id", () => {
    const k = dialbackKey("s", "b.test", "a.test", "id1");
    expect(verifyDialbackKey("s", "b.test", "a.test", "id1", k)).toBe(true);
    expect(verifyDialbackKey("s", "b.test", "a.test", "id2", k)).toBe(false);
    expect(verifyDialbackKey("s", "c.test", "a.test", "id1", k)).toBe(false);
    expect(verifyDialbackKey("s", "a.test", "b.test", "id1", k)).toBe(false);
    expect(verifyDialbackKey("other", "b.test", "a.test", "id1", k)).toBe(false);
    expect(verifyDialbackKey("s", "b.test", "a.test", "id1", "short")).toBe(false);
  });
});

describe("dialback authoritative role (XEP-0220 section 2.1.3)", () => {
  const hosted = (d: string) => d === "corp.test";
  const secret = "k";

  it("answers valid for a key we issued and invalid otherwise", () => {
    const key = dialbackKey(secret, "partner.test", "corp.test", "S1");
    const ok = answerVerify(xml("db:verify", { from: "partner.test", to: "corp.test", id: "S1" }, key), secret, hosted);
    expect(ok.attrs).toMatchObject({ from: "corp.test", to: "partner.test", id: "S1", type: "valid" });
    const bad = answerVerify(xml("db:verify", { from: "partner.test", to: "corp.test", id: "S2" }, key), secret, hosted);
    expect(bad.attrs.type).toBe("invalid");
  });

  it("answers item-not-found for a domain we do not host", () => {
    const r = answerVerify(xml("db:verify", { from: "partner.test", to: "other.test", id: "S1" }, "x"), secret, hosted);
    expect(r.attrs.type).toBe("error");
    expect(r.getChild("error")?.getChild("item-not-found")).toBeDefined();
  });

  it("carries a stanza error in a refused result", () => {
    const r = resultResponse("corp.test", "p.test", "error", "not-authorized", "certificates only");
    expect(r.toString()).toContain("<not-authorized xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>");
  });
});

describe("SASL EXTERNAL authorization identity (XEP-0178, RFC 6120 section 6.4.2)", () => {
  it("encodes a domain in base64 and an empty identity as '='", () => {
    expect(encodeAuthzid("corp.test")).toBe("Y29ycC50ZXN0");
    expect(encodeAuthzid(undefined)).toBe("=");
    expect(decodeAuthzid("Y29ycC50ZXN0")).toBe("corp.test");
    expect(decodeAuthzid("=")).toBeUndefined();
    expect(decodeAuthzid("")).toBeUndefined();
  });

  it("refuses text that is not base64", () => {
    expect(() => decodeAuthzid("not base64!")).toThrow("incorrect-encoding");
  });

  it("sees EXTERNAL among offered mechanisms", () => {
    const f = xml("stream:features", {}, xml("mechanisms", { xmlns: "urn:ietf:params:xml:ns:xmpp-sasl" }, xml("mechanism", {}, "EXTERNAL")));
    expect(offersExternal(f)).toBe(true);
    expect(offersExternal(xml("stream:features"))).toBe(false);
  });
});
