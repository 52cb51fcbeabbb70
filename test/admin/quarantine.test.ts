/**
 * Quarantine review through the admin API of a running gateway: corp.test
 * (compliance, archive, core, s2s, c2s and admin in one process) federates
 * with a second demarc for partner.test over real s2s. A policy holds any
 * message about the merger; bob on c2s does not get it until an officer
 * releases it, then gets it once; a rejected message never reaches the
 * partner; a release that cannot be delivered says why and stays pending; the
 * real `demarc archive verify` still passes afterwards. Every decision is
 * audited under admin.token's service account; no request can name an actor.
 * Loopback addresses: 127.0.21.1 (corp.test), 127.0.21.2 (partner.test), 127.0.21.3 (DNS).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Element } from "../../src/xmpp/xml.js";
import { isMsg, xml, type Bench, type User } from "../access/c2s/helpers.js";
import { demarcCommand } from "../helpers/demarc.js";
import { startReviewPair, type ReviewPair } from "../helpers/review-pair.js";
import { until } from "../helpers/wait.js";
import type { TestGateway } from "../helpers/xmpp-gateway.js";

const CORP = "127.0.21.1";
const PARTNER = "127.0.21.2";
const DNS_ADDR = "127.0.21.3";
// Off the standard ports: a system XMPP server on 0.0.0.0 would cover every loopback address.
const S2S_PORT = 17269;

const POLICY = `kind: policy
rules:
  - id: hold-merger
    when:
      kind: [message]
      words: ["merger"]
    then:
      action: quarantine
      reason: "Talk of the merger is reviewed before delivery."
`;

let pair: ReviewPair;
let bench: Bench;
let partner: TestGateway;
let bob: User;
let base = "";
const TOKEN = "quarantine-api-test-token";

async function api(method: "GET" | "POST", path: string, body?: unknown, contentType = "application/json", token: string | null = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": contentType }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The writer moves journaled records into the database a moment after they are routed; the API is asked again until then. */
async function pendingUntil(n: number): Promise<any[]> {
  const items = async () => {
    const r = await api("GET", "/api/quarantine");
    expect(r.status).toBe(200);
    return r.body.items as any[];
  };
  return until(async () => {
    const now = await items();
    return now.length >= n && now;
  }, 5_000, `${n} pending`).catch(items);
}

const errorFor = (id: string) => (el: Element) => el.name === "message" && el.attrs.type === "error" && el.attrs.id === id;
const conditionOf = (el: Element) => el.getChild("error")?.getChildElements()[0]?.name;

beforeAll(async () => {
  pair = await startReviewPair({
    corp: CORP,
    partner: PARTNER,
    dns: DNS_ADDR,
    s2sPort: S2S_PORT,
    policy: POLICY,
    admin: { token: TOKEN, token_account: { name: "legal-bot", role: "officer" } },
  });
  ({ bench, partner, bob, base } = pair);
});

afterAll(async () => {
  await pair?.close();
});

/** demarc_archive_quarantine_pending as /metrics reports it. */
async function pendingGauge(): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /^demarc_archive_quarantine_pending(?:\{[^}]*\})? (\d+)$/m.exec(text);
  if (!m) throw new Error(`demarc_archive_quarantine_pending not in /metrics:\n${text.split("\n").filter((l) => l.includes("archive")).join("\n")}`);
  return Number(m[1]);
}

describe("quarantine review over the admin API", () => {
  let heldId = 0;

  it("holds a partner's message from bob until an officer releases it, then bob gets it exactly once", async () => {
    const sent = await partner.route({ kind: "message", from: "carl@partner.test/desk", to: "bob@corp.test", type: "chat", body: "the merger is on", thread: "t-merger" });
    expect(sent.delivered).toBe(true);
    // The partner's sender is told, over s2s, that the message is held.
    const bounce = await partner.sink.waitFor((e) => e.type === "error" && e.to === "carl@partner.test/desk");
    expect(bounce.error?.condition).toBe("policy-violation");

    const [item, ...rest] = await pendingUntil(1);
    expect(rest).toEqual([]);
    expect(item).toMatchObject({
      direction: "inbound",
      protocol: "xmpp",
      kind: "message",
      from: "carl@partner.test/desk",
      to: "bob@corp.test",
      partner: "partner.test",
      thread: "t-merger",
      body: "the merger is on",
      rule: "hold-merger",
      reason: "Talk of the merger is reviewed before delivery.",
    });
    heldId = item.id;
    await pair.markerToBob();
    expect(bob.all(isMsg("the merger is on"))).toEqual([]);
    expect(await pendingGauge()).toBe(1);

    const r = await api("POST", `/api/quarantine/${heldId}/release`, { comment: "cleared by legal" });
    expect(r).toMatchObject({ status: 200, body: { status: "released", id: heldId, to: "bob@corp.test", delivered: true, review: { actor: "legal-bot", decision: "released", comment: "cleared by legal" } } });
    const got = await bob.waitFor(isMsg("the merger is on"));
    expect(got.attrs.from).toBe("carl@partner.test/desk");
    expect(got.getChildText("thread")).toBe("t-merger");

    const again = await api("POST", `/api/quarantine/${heldId}/release`, {});
    expect(again.status).toBe(409);
    expect(await pendingGauge()).toBe(0);
    expect(again.body.error).toMatch(new RegExp(`^record #${heldId} was already released by legal-bot at \\S+Z \\("cleared by legal"\\)$`));
    expect((await api("POST", `/api/quarantine/${heldId}/reject`, {})).status).toBe(409);
    await pair.markerToBob();
    expect(bob.all(isMsg("the merger is on"))).toHaveLength(1);
    expect(await pendingUntil(0)).toEqual([]);

    // The archive holds both: the quarantined original and the release, linked and signed by the officer.
    const release = await pair.archived((x) => x.verdict === "released");
    expect(release).toMatchObject({ direction: "inbound", from: "carl@partner.test/desk", to: "bob@corp.test", ruleId: "hold-merger", thread: "t-merger", body: "the merger is on" });
    expect(JSON.parse(release.verdicts)).toEqual([
      { stage: "review", ruleId: "hold-merger", action: "release", reason: "released by legal-bot: cleared by legal", shadow: false, detail: `released-from:${heldId}` },
    ]);
    expect((await pair.archived((x) => x.seq === heldId)).verdict).toBe("quarantine");
  });

  it("releases bob's held message to the partner over s2s, and a rejected one never leaves", async () => {
    await bob.send(xml("message", { to: "carl@partner.test", type: "chat", id: "o1" }, xml("body", {}, "merger numbers attached")));
    await bob.send(xml("message", { to: "carl@partner.test", type: "chat", id: "o2" }, xml("body", {}, "merger plan B")));
    expect(conditionOf(await bob.waitFor(errorFor("o1")))).toBe("policy-violation");
    expect(conditionOf(await bob.waitFor(errorFor("o2")))).toBe("policy-violation");
    const items = await pendingUntil(2);
    const [numbers, planB] = [items.find((i) => i.body === "merger numbers attached"), items.find((i) => i.body === "merger plan B")];
    expect(numbers).toMatchObject({ direction: "outbound", from: "bob@corp.test/r1", to: "carl@partner.test", partner: "partner.test" });

    const rel = await api("POST", `/api/quarantine/${numbers.id}/release`, {});
    expect(rel).toMatchObject({ status: 200, body: { status: "released", to: "carl@partner.test" } });
    const out = await partner.sink.waitFor((e) => e.body === "merger numbers attached");
    expect(out).toMatchObject({ from: "bob@corp.test/r1", to: "carl@partner.test", direction: "inbound" });

    const rej = await api("POST", `/api/quarantine/${planB.id}/reject`, { comment: "not for partners" });
    expect(rej).toMatchObject({ status: 200, body: { status: "rejected", id: planB.id, review: { actor: "legal-bot", decision: "rejected", comment: "not for partners" } } });
    const late = await api("POST", `/api/quarantine/${planB.id}/release`, {});
    expect(late.status).toBe(409);
    expect(late.body.error).toMatch(/was already rejected by legal-bot at .*\("not for partners"\)$/);
    await pair.markerToPartner();
    expect(partner.sink.delivered.filter((e) => e.body === "merger numbers attached")).toHaveLength(1);
    expect(partner.sink.delivered.filter((e) => e.body === "merger plan B")).toEqual([]);
    expect(await pendingUntil(0)).toEqual([]);
  });

  it("answers 502 with the condition when the release cannot be delivered, and the message stays pending", async () => {
    await bob.send(xml("message", { to: "x@gone.test", type: "chat", id: "g1" }, xml("body", {}, "merger, far away")));
    await bob.waitFor(errorFor("g1"));
    const [item] = await pendingUntil(1);
    const r = await api("POST", `/api/quarantine/${item.id}/release`, {});
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ condition: "remote-server-not-found", error: expect.stringMatching(new RegExp(`^record #${item.id} could not be delivered to x@gone\\.test: remote-server-not-found.*; it stays in quarantine$`)) });
    expect((await pendingUntil(1)).map((i) => i.id)).toEqual([item.id]);
    expect((await api("POST", `/api/quarantine/${item.id}/reject`, { comment: "partner gone" })).status).toBe(200);
    expect(await pendingUntil(0)).toEqual([]);
  });

  it("acts only for the token's service account, within its role", async () => {
    const none = await api("GET", "/api/quarantine", undefined, "application/json", null);
    expect(none.status).toBe(401);
    expect((await api("POST", "/api/quarantine/1/release", {}, "application/json", "wrong-token")).status).toBe(401);
    const consoleCfg = bench.gateway.context.config.admin.console;
    consoleCfg.four_eyes = true;
    try {
      expect(await api("POST", "/api/quarantine/1/release", {})).toEqual({
        status: 409,
        body: { error: "four-eyes review is on (admin.console.four_eyes): decide in the review console, where a second officer confirms" },
      });
    } finally {
      consoleCfg.four_eyes = false;
    }
    const account = bench.gateway.context.config.admin.token_account;
    account.role = "reviewer";
    try {
      expect((await api("GET", "/api/quarantine")).status).toBe(200);
      expect(await api("POST", "/api/quarantine/1/release", {})).toEqual({ status: 403, body: { error: "legal-bot is a reviewer; this needs the officer role" } });
    } finally {
      account.role = "officer";
    }
  });

  it("validates requests and answers unknown or unheld ids with 404, every error one JSON message", async () => {
    const NO_ACTOR = "actor: actor cannot be declared: decisions are recorded under the account the request authenticates as";
    expect(await api("POST", `/api/quarantine/1/release`, { actor: "the-ceo" })).toEqual({ status: 400, body: { error: NO_ACTOR } });
    expect(await api("POST", `/api/quarantine/1/reject`, { actor: "the-ceo", comment: "x" })).toEqual({ status: 400, body: { error: NO_ACTOR } });
    expect(await api("GET", "/api/quarantine?actor=the-ceo")).toEqual({ status: 400, body: { error: NO_ACTOR } });
    expect(await api("POST", `/api/quarantine/1/release`, { force: true })).toEqual({ status: 400, body: { error: "unknown field force" } });
    expect(await api("POST", `/api/quarantine/1/release`, { comment: "x".repeat(4001) })).toEqual({ status: 400, body: { error: "comment: comment is limited to 4000 characters" } });
    expect(await api("POST", `/api/quarantine/abc/reject`, {})).toEqual({ status: 400, body: { error: "id: the id is a record number (#N in demarc archive quarantine list)" } });
    expect(await api("POST", `/api/quarantine/99999/release`, {})).toEqual({ status: 404, body: { error: "no archived record #99999" } });
    expect(await api("POST", `/api/quarantine/1/release`, "comment=hi", "text/plain")).toEqual({
      status: 400,
      body: { error: 'the body must be a JSON object: {"comment": "..."}' },
    });
    const xmlBody = await api("POST", `/api/quarantine/1/release`, "<comment>hi</comment>", "application/xml");
    expect(xmlBody.status).toBe(415);
    expect(xmlBody.body).toEqual({ error: "the body must be application/json, not application/xml" });
    const empty = await fetch(`${base}/api/quarantine/1/reject`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` } });
    expect([empty.status, await empty.json()]).toEqual([400, { error: 'the body must be a JSON object: {"comment": "..."}' }]);
    expect((await api("GET", "/api/quarantine?limit=0")).body).toEqual({ error: "limit: limit must be from 1 to 1000" });
    expect(await api("GET", "/api/quarantine/nothing/here")).toMatchObject({ status: 404, body: { error: expect.stringContaining("no such quarantine API route") } });

    await partner.route({ kind: "message", from: "carl@partner.test", to: "bob@corp.test", type: "chat", body: "plain hello" });
    await bob.waitFor(isMsg("plain hello"));
    const allowed = await pair.archived((x) => x.body === "plain hello");
    expect(await api("POST", `/api/quarantine/${allowed.seq}/release`, {})).toEqual({
      status: 404,
      body: { error: `record #${allowed.seq} was not quarantined (its verdict is allow)` },
    });
  });

  it("leaves a chain `demarc archive verify` passes, and an audit trail naming each officer", async () => {
    const cfg = join(bench.dir, "verify.yaml");
    writeFileSync(cfg, stringify({ domains: ["corp.test"], data_dir: bench.dir, archive: { url: "sqlite:core.db" }, log: { level: "error", format: "json" } }));
    const v = await demarcCommand(["--config", cfg, "archive", "verify", "--actor", "auditor"], { cwd: bench.dir });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^ok: \d+ record\(s\) verified/);
    const audit = await demarcCommand(["--config", cfg, "archive", "audit", "--limit", "200"], { cwd: bench.dir });
    const lines = audit.stdout.trim().split("\n").map((l) => l.split(" ").slice(1, 3).join(" "));
    expect(lines).toEqual(expect.arrayContaining([
      "legal-bot quarantine-release",
      "legal-bot quarantine-release-refused",
      "legal-bot quarantine-reject",
      "legal-bot quarantine-release-failed",
      "legal-bot quarantine-list",
    ]));
    expect(audit.stdout).toMatch(/legal-bot quarantine-release \{"id":\d+,"comment":"cleared by legal"\}/);
  });
});
