import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { RICH_STATES } from "../../src/model/presence.js";
import { PresenceStates, parseStateMap, shippedStateMap, SHIPPED_STATE_MAP } from "../../src/mapping/state-map.js";
import { fromPidf, readPidf, toPidf, availabilityState } from "../../src/mapping/pidf.js";

const map = shippedStateMap();

describe("state map defaults (Table 20-2)", () => {
  it("sends the table's states to Lync and AOL", () => {
    const table: [string, string, string][] = [
      ["dnd", "busy", "away"],
      ["busy", "busy", "away"],
      ["on-the-phone", "busy", "away"],
      ["in-a-meeting", "busy", "away"],
      ["idle", "away", "away"],
      ["available", "available", "available"],
      ["offline", "offline", "offline"],
    ];
    for (const [rich, lync, aol] of table) {
      expect(map.send("lync", rich as never)).toBe(lync);
      expect(map.send("aol", rich as never)).toBe(aol);
    }
  });

  it("maps incoming partner states back to the nearest rich state", () => {
    expect(map.receive("lync", "do-not-disturb")).toBe("dnd");
    expect(map.receive("lync", "be-right-back")).toBe("away");
    expect(map.receive("lync", "available-idle")).toBe("idle");
    expect(map.receive("aol", "on-the-phone")).toBe("on-the-phone");
    expect(map.receive("aol", "meeting")).toBe("in-a-meeting");
    expect(map.receive("aol", "vacation")).toBe("away");
    expect(map.receive("xmpp-basic", "busy")).toBe("away");
  });

  it("xmpp-basic sends only available, away and offline", () => {
    for (const s of RICH_STATES) expect(["available", "away", "offline"]).toContain(map.send("xmpp-basic", s));
  });
});

describe("state map file checks", () => {
  const shipped = readFileSync(SHIPPED_STATE_MAP, "utf8");
  it("refuses a send value the profile cannot render, naming the key", () => {
    const bad = shipped.replace("      dnd: busy\n", "      dnd: purple\n");
    expect(() => parseStateMap(bad, "state-map.yaml")).toThrow(ConfigError);
    expect(() => parseStateMap(bad, "state-map.yaml")).toThrow(/profiles\.lync\.send\.dnd: "purple"/);
  });
  it("refuses a missing rich state and a wrong kind", () => {
    expect(() => parseStateMap(shipped.replace("      in-a-meeting: busy\n", ""), "f")).toThrow(/profiles\.lync\.send/);
    expect(() => parseStateMap(shipped.replace("kind: state-map", "kind: policy"), "f")).toThrow(/kind/);
  });
});

describe("PIDF both ways", () => {
  it("renders Lync availability numbers and RPID activities", () => {
    const busy = toPidf("sip:bob@corp.test", { state: "on-the-phone", note: "x<y" }, "lync");
    expect(busy).toContain("<ms:availability>6500</ms:availability>");
    expect(busy).toContain("<rpid:busy/>");
    expect(busy).toContain("<basic>open</basic>");
    expect(busy).toContain("x&#60;y");
    const aol = toPidf("sip:bob@corp.test", { state: "in-a-meeting" }, "aol");
    expect(aol).toContain("<rpid:away/>");
    expect(aol).not.toContain("availability");
    expect(toPidf("sip:bob@corp.test", { state: "offline" }, "aol")).toContain("<basic>closed</basic>");
    expect(toPidf("sip:b@c.test", { state: "dnd" }, "lync")).toContain(">6500<");
  });

  it("reads the availability ranges and sends the canonical values", () => {
    expect(availabilityState(3000)).toBe("available");
    expect(availabilityState(4499)).toBe("available");
    expect(availabilityState(6999)).toBe("busy");
    expect(availabilityState(9100)).toBe("do-not-disturb");
    expect(availabilityState(12000)).toBe("be-right-back");
    expect(availabilityState(16000)).toBe("away");
    expect(availabilityState(18500)).toBe("offline");
    expect(availabilityState(10)).toBeUndefined();
    const lyncDnd = `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@p.test"><tuple id="x"><status><basic>open</basic></status></tuple><ms:state xmlns:ms="http://schemas.microsoft.com/2006/09/sip/state"><ms:availability>9400</ms:availability></ms:state></presence>`;
    expect(fromPidf(lyncDnd, "lync")).toEqual({ state: "dnd" });
  });

  it("reads RPID activities, idle, notes and closed tuples", () => {
    const doc = (inner: string) =>
      `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:a@p.test">${inner}</presence>`;
    const open = `<tuple id="t"><status><basic>open</basic></status></tuple>`;
    expect(readPidf(doc(`${open}<dm:person id="p"><rpid:activities><rpid:on-the-phone/></rpid:activities><dm:note>call</dm:note></dm:person>`))).toEqual({ state: "on-the-phone", note: "call" });
    expect(fromPidf(doc(`${open}<dm:person id="p"><rpid:activities><rpid:meeting/></rpid:activities></dm:person>`), "aol")).toEqual({ state: "in-a-meeting" });
    expect(readPidf(doc(`${open}<dm:person id="p"><rpid:user-input>idle</rpid:user-input></dm:person>`))).toEqual({ state: "idle" });
    expect(readPidf(doc(open))).toEqual({ state: "available" });
    expect(readPidf(doc(`<tuple id="t"><status><basic>closed</basic></status><note>bye</note></tuple>`))).toEqual({ state: "offline", note: "bye" });
  });

  it("round-trips every rich state through the aol and lync renderings", () => {
    for (const profile of ["aol", "lync"] as const) {
      for (const s of RICH_STATES) {
        const back = fromPidf(toPidf("sip:a@b.test", { state: s }, profile), profile).state;
        expect(back, `${profile} ${s}`).toBe(map.receive(profile, map.send(profile, s)));
      }
    }
    // The table's defaults, seen from the far side: dnd goes to AOL as away and comes back as away.
    expect(fromPidf(toPidf("sip:a@b.test", { state: "dnd" }, "aol"), "aol").state).toBe("away");
  });

  it("refuses DTDs and broken XML with bad-request", () => {
    expect(() => readPidf(`<!DOCTYPE x [<!ENTITY a "b">]><presence/>`)).toThrow(/DTD/);
    expect(() => readPidf(`<presence><tuple>`)).toThrow(/well-formed|PIDF/);
    expect(() => readPidf(`<foo/>`)).toThrow(/not a PIDF/);
  });
});

describe("operator state map", () => {
  it("a state-map.yaml in the policy folder replaces the shipped one; without one the shipped map applies", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { loadStateMapFrom } = await import("../../src/mapping/state-map.js");
    const { toXmppPresence } = await import("../../src/mapping/xmpp-presence.js");
    const dir = mkdtempSync(join(tmpdir(), "demarc-statemap-"));
    expect(loadStateMapFrom(dir).send("lync", "dnd")).toBe("busy");
    const own = readFileSync(SHIPPED_STATE_MAP, "utf8").replace("      dnd: busy\n", "      dnd: do-not-disturb\n").replace(/(xmpp-basic:\n    send:\n      dnd: )away/, "$1dnd");
    writeFileSync(join(dir, "state-map.yaml"), own);
    const m = loadStateMapFrom(dir);
    expect(m.send("lync", "dnd")).toBe("do-not-disturb");
    expect(toPidf("sip:b@corp.test", { state: "dnd" }, "lync")).toContain(">6500<");
    // The gateway's map in force is a value handed to whoever renders, not a process-wide setting.
    const states = new PresenceStates();
    expect(states.current.send("lync", "dnd")).toBe("busy");
    states.use(m);
    expect(toPidf("sip:b@corp.test", { state: "dnd" }, "lync", states.current)).toContain(">9500<");
    expect(toXmppPresence({ state: "dnd" }, "xmpp-basic", states.current)).toEqual({ show: "dnd" });
    expect(toPidf("sip:b@corp.test", { state: "dnd" }, "lync")).toContain(">6500<");
    expect(new PresenceStates().current).toBe(shippedStateMap());
  });
});
