/**
 * `demarc archive quarantine` through the real binary: list reads the archive
 * database with or without a gateway; release and reject go to the running
 * gateway's admin API, which delivers a release to the (offline) hosted user's
 * stored messages; without a gateway they say so in one line and exit 69.
 * The gateway audits decisions under admin.token's service account: the
 * command has no way to name another actor.
 * Loopback address: 127.0.21.20.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/archive/db.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { toRecord } from "../../src/archive/record.js";
import type { Envelope } from "../../src/model/envelope.js";
import type { Decision } from "../../src/model/route.js";
import { allow, envelope, withArchiveDb } from "../archive/helpers.js";
import { baseConfig, demarcCommand, runDemarc, workdir, type DemarcProcess } from "../helpers/demarc.js";

const ADDR = "127.0.21.20";
const ADMIN_PORT = 17280;
let dir = "";
let cfg = "";
let gw: DemarcProcess | undefined;

const demarc = (...args: string[]) => demarcCommand(["--config", cfg, ...args], { cwd: dir });
const quarantine = (...args: string[]) => demarc("archive", "quarantine", ...args);

const withDb = <T>(fn: (db: Db) => Promise<T>) => withArchiveDb(join(dir, "data"), fn);

const held = (e: Envelope): Decision => ({
  deliver: false,
  envelope: e,
  policyVersion: "pv",
  quarantined: true,
  verdicts: [{ stage: "rules", ruleId: "hold-merger", action: "quarantine", reason: "Merger talk is reviewed first." }],
});

beforeAll(async () => {
  const on = (port: number) => ({ host: ADDR, port });
  ({ dir, configPath: cfg } = workdir(baseConfig(ADDR, {
    data_dir: "data",
    admin: { ...on(ADMIN_PORT), token: "quarantine-cli-test-token", token_account: { name: "legal-bot", role: "officer" } },
    // Off the standard ports: a system XMPP server on 0.0.0.0 would cover every loopback address.
    s2s: { starttls: on(17369), direct_tls: on(17370) },
    c2s: { starttls: on(17322), direct_tls: on(17323) },
    archive: { journal: { commit_delay_ms: 1 } },
  })));
  const add = await demarc("users", "add", "bob@corp.test");
  expect(add.code, add.stderr).toBe(0);
  const now = Date.now();
  const envs = [
    envelope({ receivedAt: now - 3000, from: "carl@partner.test/desk", to: "bob@corp.test", partnerDomain: "partner.test", body: "hello bob" }),
    envelope({ receivedAt: now - 2000, from: "carl@partner.test/desk", to: "bob@corp.test", partnerDomain: "partner.test", thread: "t-m", body: "the merger is on" }),
    envelope({ receivedAt: now - 1000, from: "carl@partner.test/desk", to: "bob@corp.test", partnerDomain: "partner.test", body: "merger plan B" }),
    envelope({ receivedAt: now, from: "carl@partner.test/desk", to: "nobody@corp.test", partnerDomain: "partner.test", body: "merger for nobody" }),
  ];
  await withDb((db) => new KnexArchiveStore(db).append(envs.map((e, i) => toRecord(e, i === 0 ? allow(e) : held(e)))));
});

afterAll(async () => {
  await gw?.stop();
});

describe("demarc archive quarantine", () => {
  it("lists held records straight from the database, as text or JSON", async () => {
    const l = await quarantine("list", "--actor", "olga");
    expect(l.code, l.stderr).toBe(0);
    const lines = l.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^#2 \S+Z inbound message carl@partner\.test\/desk -> bob@corp\.test \(quarantine:hold-merger\) the merger is on {2}-- Merger talk is reviewed first\.$/);
    expect(lines.map((x) => x.split(" ")[0])).toEqual(["#2", "#3", "#4"]);
    expect(l.stderr).toBe("3 record(s) pending review\n");
    const j = await quarantine("list", "--json", "--limit", "1");
    expect(j.code, j.stderr).toBe(0);
    expect(j.stdout.trim().split("\n").map((x) => JSON.parse(x))).toEqual([
      expect.objectContaining({ id: 2, from: "carl@partner.test/desk", to: "bob@corp.test", partner: "partner.test", thread: "t-m", body: "the merger is on", rule: "hold-merger", reason: "Merger talk is reviewed first." }),
    ]);
  });

  it("says in one line that the gateway is not running, and exits 69", async () => {
    const r = await quarantine("release", "2");
    expect(r.code).toBe(69);
    expect(r.stderr).toBe(`demarc: E_GATEWAY_DOWN: the gateway is not running or not reachable at http://${ADDR}:${ADMIN_PORT} (ECONNREFUSED)\n`);
    expect((await quarantine("reject", "#x")).code).toBe(64);
  });

  it("releases and rejects through the running gateway, once each", async () => {
    gw = runDemarc(["--config", cfg, "start"], { cwd: dir });
    await gw.waitForLog((l) => l.msg === "demarc started");

    const declared = await quarantine("release", "2", "--actor", "olga");
    expect([declared.code, declared.stderr]).toEqual([64, expect.stringContaining("unknown option '--actor'")]);
    const rel = await quarantine("release", "2", "--comment", "cleared by legal");
    expect(rel.code, rel.stderr).toBe(0);
    expect(rel.stdout).toBe("released #2: delivered to bob@corp.test\n");
    const again = await quarantine("release", "#2");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^demarc: E_ADMIN_API: record #2 was already released by legal-bot at \S+Z \("cleared by legal"\)\n$/);

    const rej = await quarantine("reject", "3", "--comment", "not now");
    expect(rej.code, rej.stderr).toBe(0);
    expect(rej.stdout).toBe("rejected #3: it will not be delivered\n");
    expect((await quarantine("release", "3")).stderr).toMatch(/^demarc: E_ADMIN_API: record #3 was already rejected by legal-bot/);

    const lost = await quarantine("release", "4");
    expect(lost.code).toBe(1);
    expect(lost.stderr).toBe("demarc: E_ADMIN_API: record #4 could not be delivered to nobody@corp.test: service-unavailable; it stays in quarantine\n");
    expect((await quarantine("release", "1")).stderr).toBe("demarc: E_ADMIN_API: record #1 was not quarantined (its verdict is allow)\n");
    expect((await quarantine("release", "77")).stderr).toBe("demarc: E_ADMIN_API: no archived record #77\n");

    const left = await quarantine("list");
    expect(left.stdout.trim().split("\n").map((x) => x.split(" ")[0])).toEqual(["#4"]);
    await gw.waitForLog((l) => l.msg === "quarantined record released" && l.id === 2);
    expect(await gw.stop()).toMatchObject({ code: 0 });
    gw = undefined;
  }, 60_000);

  it("bob's stored messages hold the release exactly once; the archive shows hold and release and still verifies", async () => {
    const stored = await withDb((db) => db("core_offline").select("user_jid", "envelope"));
    const bodies = stored.map((r) => [r.user_jid, (JSON.parse(r.envelope as string) as Envelope).body]);
    expect(bodies).toEqual([["bob@corp.test", "the merger is on"]]);

    const s = await demarc("archive", "search", "--thread", "t-m");
    expect(s.stdout.trim().split("\n")).toEqual([
      // Both records carry the message's outcomes: released by the officer, then stored for bob, who was offline.
      expect.stringMatching(/^#2 .* \(quarantine:hold-merger; released > stored-offline\) the merger is on$/),
      expect.stringMatching(/^#5 .* inbound message carl@partner\.test\/desk -> bob@corp\.test \(released:hold-merger by legal-bot; released > stored-offline\) the merger is on$/),
    ]);
    // The release that failed was archived before its delivery was tried, as every message is; the hold stays pending.
    const nobody = await demarc("archive", "search", "--participant", "nobody@corp.test");
    expect(nobody.stdout.trim().split("\n").map((x) => x.match(/^#\d+|\([^)]+\)/g)!.join(" "))).toEqual(["#4 (quarantine:hold-merger; bounced: service-unavailable)", "#6 (released:hold-merger by legal-bot; bounced: service-unavailable)"]);
    const v = await demarc("archive", "verify");
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain("ok: 6 record(s) verified");

    const audit = await demarc("archive", "audit", "--limit", "100");
    const actions = audit.stdout.trim().split("\n").map((l) => l.split(" ").slice(1, 3).join(" "));
    expect(actions).toEqual(expect.arrayContaining(["olga quarantine-list", "legal-bot quarantine-release", "legal-bot quarantine-release-refused", "legal-bot quarantine-reject", "legal-bot quarantine-release-failed"]));
    expect(audit.stdout).toMatch(/legal-bot quarantine-reject \{"id":3,"comment":"not now"\}/);
  });
});
