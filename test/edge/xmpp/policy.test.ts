import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.js";
import type { LoadedConfig } from "../../../src/config/load.js";
import { PartnerPolicy } from "../../../src/edge/xmpp/policy.js";
import { Federation } from "../../../src/config/federation.js";
import { RateLimits, TokenBucket } from "../../../src/edge/xmpp/limits.js";

const cfg = (c: Record<string, unknown>): LoadedConfig => ({ ...configSchema.parse(c), baseDir: ".", source: undefined });

describe("partner policy", () => {
  it("applies per-partner methods and falls back to the global defaults", () => {
    const p = new PartnerPolicy(
      cfg({ domains: ["corp.test"], s2s: { max_stanza_bytes: 100_000 }, partners: [{ domain: "bank.test", auth: ["certificate"], max_stanza_bytes: 8192 }] }),
    );
    expect(p.allows("bank.test", "certificate")).toBe(true);
    expect(p.allows("bank.test", "dialback")).toBe(false);
    expect(p.settings("bank.test").maxStanzaBytes).toBe(8192);
    expect(p.allows("other.test", "dialback")).toBe(true);
    expect(p.settings("other.test").maxStanzaBytes).toBe(100_000);
  });

  it("refuses denied domains and their subdomains, hosted domains, and unlisted ones when allow-listed", () => {
    const open = new PartnerPolicy(cfg({ domains: ["corp.test"], federation: { deny: ["evil.test"] } }));
    expect(open.settings("evil.test").allowed).toBe(false);
    expect(open.settings("chat.evil.test").allowed).toBe(false);
    expect(open.settings("notevil.test").allowed).toBe(true);
    expect(open.settings("corp.test").allowed).toBe(false);
    const listed = new PartnerPolicy(cfg({ domains: ["corp.test"], federation: { mode: "allow-listed" }, partners: [{ domain: "a.test" }] }));
    expect(listed.settings("a.test").allowed).toBe(true);
    expect(listed.settings("b.test")).toMatchObject({ allowed: false, reason: "b.test is not an allowed partner" });
    const sip = new PartnerPolicy(cfg({ domains: ["corp.test"], partners: [{ domain: "lync.test", protocol: "sip" }] }));
    expect(sip.settings("lync.test")).toMatchObject({ allowed: false, reason: "lync.test is a SIP partner, not an XMPP one" });
  });
});

describe("partner settings kept per federation view", () => {
  it("answer as the view in force and the s2s defaults say, a reload or a config update seen at once", () => {
    const before = cfg({ domains: ["corp.test"], partners: [{ domain: "a.test", max_stanza_bytes: 4096 }] });
    const after = cfg({ domains: ["corp.test"], federation: { deny: ["a.test"] }, s2s: { max_stanza_bytes: 9000 } });
    let view = Federation.fromConfig(before);
    const p = new PartnerPolicy(before, () => view);
    expect(p.settings("a.test")).toMatchObject({ allowed: true, maxStanzaBytes: 4096 });
    expect(p.settings("a.test")).toBe(p.settings("a.test"));
    expect(p.refusal("A.test")).toBeUndefined();
    view = Federation.fromConfig(after);
    expect(p.refusal("a.test")).toBe("federation with a.test is denied");
    expect(p.settings("b.test").maxStanzaBytes).toBe(before.s2s.max_stanza_bytes);
    p.update(after);
    expect(p.settings("b.test").maxStanzaBytes).toBe(9000);
    // What a caller is handed cannot be changed under the other callers.
    expect(Object.isFrozen(p.settings("b.test"))).toBe(true);
  });
});

describe("limits", () => {
  it("a token bucket gives a burst, then asks to wait in proportion to the rate", () => {
    let now = 0;
    const b = new TokenBucket(10, 3, () => now);
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 0]);
    expect(b.take()).toBe(100);
    now += 1_000;
    expect(b.take()).toBe(0);
  });

  it("keeps one bucket per partner", () => {
    const r = new RateLimits(() => ({ rate: 1, burst: 1 }));
    expect(r.take("a.test")).toBe(0);
    expect(r.take("b.test")).toBe(0);
    expect(r.take("a.test")).toBeGreaterThan(0);
  });
});
