import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import type { LoadedConfig } from "../../src/config/load.js";
import { Federation, restartNeeded } from "../../src/config/federation.js";

const cfg = (raw: Record<string, unknown>): LoadedConfig => ({ ...configSchema.parse({ domains: ["corp.test"], ...raw }), baseDir: "/tmp" });

describe("Federation", () => {
  const fed = Federation.fromConfig(
    cfg({
      domains: ["Corp.Test", "labs.test"],
      partners: [{ domain: "Lync.Example", protocol: "sip", profile: "lync" }, { domain: "bank.example", auth: ["certificate"] }],
      federation: { mode: "allow-listed", deny: ["rival.example"] },
    }),
  );

  it("answers hosted domains and partners case-insensitively", () => {
    expect(fed.domains).toEqual(["corp.test", "labs.test"]);
    expect(fed.hosts("CORP.test")).toBe(true);
    expect(fed.hosts("partner.example")).toBe(false);
    expect(fed.protocolOf("lync.example")).toBe("sip");
    expect(fed.protocolOf("unlisted.example")).toBe("xmpp");
    expect(fed.profileOf("LYNC.example")).toBe("lync");
    expect(fed.authOf("bank.example")).toEqual(["certificate"]);
    expect(fed.authOf("unlisted.example")).toEqual(["certificate", "dialback"]);
    expect(fed.mode).toBe("allow-listed");
  });

  it("denies a listed domain and its subdomains, not its parents or look-alikes", () => {
    expect(fed.denies("rival.example")).toBe(true);
    expect(fed.denies("im.Rival.example")).toBe(true);
    expect(fed.denies("example")).toBe(false);
    expect(fed.denies("notrival.example")).toBe(false);
  });

  it("cannot be changed once built", () => {
    expect(Object.isFrozen(fed)).toBe(true);
    expect(Object.isFrozen(fed.partner("bank.example"))).toBe(true);
  });
});

describe("restartNeeded", () => {
  it("names the start-only settings that changed, and nothing for federation changes", () => {
    const a = cfg({});
    expect(restartNeeded(a, cfg({ domains: ["corp.test", "new.test"], partners: [{ domain: "p.example", protocol: "sip" }] }))).toEqual([]);
    expect(restartNeeded(a, cfg({ mode: "edge", archive: { url: "postgres://db/x" }, s2s: { starttls: { port: 5999 } }, sip: { tcp: { port: 5999 } } }))).toEqual([
      "mode",
      "archive.url",
      "s2s.starttls",
      "sip.tcp",
    ]);
  });
});
