/**
 * The review console end to end in headless Chromium: corp.test (compliance,
 * archive, core, s2s, c2s and the admin server in one process) federates with
 * a second demarc for partner.test over real s2s, and bob is a real c2s
 * client. A reviewer logs in, searches, opens a conversation and a decision
 * record and exports the search (the downloaded file is opened and read); an
 * officer releases the held message from the quarantine page and bob gets
 * it; holds are placed and released; with four-eyes on a second officer must
 * confirm; an admin reads the audit log, filtered by officer, and finds each
 * action under its officer's name. Every page is screenshotted to
 * .tmp/screenshots.
 * Loopback addresses: 127.0.36.1 (corp.test), 127.0.36.2 (partner.test), 127.0.36.3 (DNS).
 */
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../../src/officers/roles.js";
import { OfficerStore } from "../../../src/officers/store.js";
import { isMsg, xml, type Bench, type User } from "../../access/c2s/helpers.js";
import { startReviewPair, type ReviewPair } from "../../helpers/review-pair.js";
import type { TestGateway } from "../../helpers/xmpp-gateway.js";
import { addOfficer, browserLogin, launch, shot } from "./helpers.js";

const CORP = "127.0.36.1";
const PARTNER = "127.0.36.2";
const DNS_ADDR = "127.0.36.3";
const S2S_PORT = 17569;

const POLICY = `kind: policy
rules:
  - id: hold-merger
    when:
      kind: [message]
      words: ["merger"]
    then:
      action: quarantine
      reason: "Talk of the merger is reviewed before delivery."
  - id: watch-numbers
    shadow: true
    when:
      kind: [message]
      words: ["numbers"]
    then:
      action: block
      reason: "Would numbers leaving be blocked?"
`;

let pair: ReviewPair;
let bench: Bench;
let partner: TestGateway;
let bob: User;
let browser: Browser;
let base = "";
/** Anything the browser refused under the Content-Security-Policy, on any page of any test here. */
const cspViolations: string[] = [];

async function as(role: Role, name: string): Promise<Page> {
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1360, height: 860 } });
  const page = await ctx.newPage();
  // Far below the test's own timeout, so a failure names the step that waited.
  page.setDefaultTimeout(8_000);
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (err) => {
    throw new Error(`page script error as ${name} (${role}): ${err.message}`);
  });
  await browserLogin(page, base, name);
  return page;
}

const cells = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? "").trim()));

beforeAll(async () => {
  pair = await startReviewPair({ corp: CORP, partner: PARTNER, dns: DNS_ADDR, s2sPort: S2S_PORT, policy: POLICY });
  ({ bench, partner, bob, base } = pair);
  const officers = new OfficerStore(bench.gateway.context.db);
  await Promise.all([addOfficer(officers, "rita", "reviewer"), addOfficer(officers, "olga", "officer"), addOfficer(officers, "otto", "officer"), addOfficer(officers, "ada", "admin")]);
  expect((await partner.route({ kind: "message", from: "carl@partner.test/desk", to: "bob@corp.test", type: "chat", body: "hello bob, <b>not bold</b>" })).delivered).toBe(true);
  await bob.waitFor(isMsg("hello bob, <b>not bold</b>"));
  await partner.route({ kind: "message", from: "carl@partner.test/desk", to: "bob@corp.test", type: "chat", subject: "Q3", body: "the merger is on" });
  await partner.route({ kind: "message", from: "carl@partner.test/desk", to: "bob@corp.test", type: "chat", body: "merger plan B" });
  // Archived before bob writes back, so the conversation's order is the order of this script.
  await pair.archivedCount(3);
  await bob.send(xml("message", { to: "carl@partner.test", type: "chat", id: "n1" }, xml("body", {}, "numbers attached")));
  await partner.sink.waitFor((e) => e.body === "numbers attached");
  await pair.archivedCount(4);
  browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

describe("the review console in a browser", () => {
  it("lets a reviewer search, read a conversation and a decision record, and export what was found", async () => {
    const anon = await (await browser.newContext()).newPage();
    await anon.goto(`${base}/`);
    expect(new URL(anon.url()).pathname).toBe("/console/login");
    await shot(anon, "01-login");

    const page = await as("reviewer", "rita");
    expect(await cells(page, "nav a")).toEqual(["Search", "Conversation"]);
    await page.fill('input[name="participant"]', "bob@corp.test");
    await page.fill('input[name="text"]', "merger");
    await Promise.all([page.waitForURL(/text=merger/), page.click('form.filters button[type="submit"]')]);
    expect(await cells(page, "#results td.body")).toEqual(["merger plan B", "the merger is on"]);
    expect(await cells(page, "#results td .verdict")).toEqual(["quarantine", "quarantine"]);
    await shot(page, "02-search");

    // A rule that fired only in shadow is found by its id like any other.
    await page.goto(`${base}/console/search?rule=watch-numbers`);
    expect(await cells(page, "#results td.body")).toEqual(["numbers attached"]);

    await page.goto(`${base}/console/search?participant=bob%40corp.test&direction=inbound`);
    await Promise.all([page.waitForURL(/conversation/), page.click("#results tr:last-child a:text('conversation')")]);
    // bob and the partner's domain: both directions, oldest first.
    expect(await cells(page, ".chat .text")).toEqual(["hello bob, <b>not bold</b>", "the merger is on", "merger plan B", "numbers attached"]);
    expect(await cells(page, ".chat .meta .verdict")).toEqual(["allow", "quarantine", "quarantine", "allow"]);
    await shot(page, "03-conversation");

    await Promise.all([page.waitForURL(/\/record\//), page.click(".chat .msg:nth-child(2) .meta a")]);
    const facts = await page.$$eval("dl.facts dt", (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent?.trim()])));
    expect(facts).toMatchObject({ Body: "the merger is on", Subject: "Q3", Authentication: "certificate", "TLS version": "TLSv1.3", "Delivery outcome": "held, waiting for an officer's review" });
    expect(facts["Policy version"]).toMatch(/^[0-9a-f]{16}$/);
    expect(facts["Certificate fingerprint"]).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(await cells(page, "table td code")).toEqual(["hold-merger"]);
    await shot(page, "04-record");

    await page.goto(`${base}/console/search?participant=bob%40corp.test&text=merger`);
    await page.selectOption('select[name="format"]', "csv");
    await Promise.all([page.waitForURL(/\/console\/export$/), page.click("form.stack button:text('Export')")]);
    await page.waitForSelector("#download", { timeout: 10_000 });
    await shot(page, "05-export");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    expect(download.suggestedFilename()).toMatch(/^demarc-export-\d{4}-\d{2}-\d{2}T\d{6}Z\.csv$/);
    const csv = readFileSync((await download.path())!, "utf8").trim().split("\r\n");
    expect(csv[0]).toMatch(/^seq,time,direction,/);
    expect(csv.slice(1).map((l) => l.split(",")[11])).toEqual(["the merger is on", "merger plan B"]);

    const denied = await page.goto(`${base}/console/quarantine`);
    expect(denied?.status()).toBe(403);
    expect(await page.textContent("main")).toContain("rita is a reviewer; this page needs the officer role");
  });

  it("lets an officer release a held message, which bob then receives over c2s, and keep holds", async () => {
    const page = await as("officer", "olga");
    await page.goto(`${base}/console/quarantine`);
    expect(await cells(page, "#queue td.body")).toEqual(["the merger is on", "merger plan B"]);
    await shot(page, "06-quarantine");
    const row = page.locator("#queue tr", { hasText: "the merger is on" });
    await row.locator('input[name="comment"]').fill("cleared by legal");
    await row.locator("button:text('Release')").click();
    await page.waitForSelector("#queue tr.outcome-released");
    expect((await page.textContent("#queue tr.outcome-released"))?.trim()).toMatch(/released by olga: delivered to bob@corp\.test$/);
    const got = await bob.waitFor(isMsg("the merger is on"));
    expect(got.attrs.from).toBe("carl@partner.test/desk");
    await shot(page, "07-quarantine-released");

    await page.goto(`${base}/console/holds`);
    await page.selectOption('select[name="scope"]', "user");
    await page.fill('input[name="value"]', "carl@partner.test");
    await page.fill('input[name="reason"]', "case 42");
    await page.click("button:text('Place hold')");
    await page.waitForSelector("#holds td.value");
    expect(await cells(page, "#holds td.value")).toEqual(["carl@partner.test"]);
    await shot(page, "08-holds");
    await page.click("#holds button:text('Release')");
    await page.waitForSelector(".notice");
    expect(await page.textContent(".notice")).toBe("hold 1 released");

    await page.goto(`${base}/console/policy?since=2000-01-01`);
    const hits = await page.$$eval("#hits tr[data-rule]", (rows) => rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent)));
    expect(hits).toEqual(expect.arrayContaining([["hold-merger", "2", "0"], ["watch-numbers", "0", "1"]]));
    expect(await cells(page, "#rules td code")).toEqual(["hold-merger", "watch-numbers"]);
    await shot(page, "09-policy");

    await page.goto(`${base}/console/partners`);
    const partnerRow = (await page.textContent('#partners tr[data-domain="partner.test"]')) ?? "";
    expect(partnerRow).toMatch(/auth (certificate|dialback), TLSv1\.3/);
    // Both directions: the partner's certificate as it came in, and as our outbound stream saw it.
    expect(partnerRow.match(/certificate names DNS:partner\.test; expires/g)).toHaveLength(2);
    expect(partnerRow).toContain("partner.test:17569 (priority 10, weight 1)");
    await shot(page, "10-partners");
  });

  it("with four-eyes on, takes a second officer to decide", async () => {
    const cfg = bench.gateway.context.config.admin.console;
    cfg.four_eyes = true;
    try {
      const olga = await as("officer", "olga");
      await olga.goto(`${base}/console/quarantine`);
      const row = olga.locator("#queue tr", { hasText: "merger plan B" });
      await row.locator('input[name="comment"]').fill("not for us");
      await row.locator("button:text('Reject')").click();
      await olga.waitForSelector("#queue tr.outcome-requested");
      await olga.goto(`${base}/console/quarantine`);
      expect(await olga.textContent("#queue")).toContain("waiting for a second officer");
      expect(await olga.locator("#queue button").count()).toBe(0);

      const otto = await as("officer", "otto");
      await otto.goto(`${base}/console/quarantine`);
      await shot(otto, "11-four-eyes");
      await otto.locator("#queue button:text('Confirm reject')").click();
      await otto.waitForSelector("#queue tr.outcome-rejected");
      expect((await otto.textContent("#queue tr.outcome-rejected"))?.trim()).toMatch(/rejected by otto: it will not be delivered$/);
    } finally {
      cfg.four_eyes = false;
    }
    await pair.markerToBob();
    expect(bob.all(isMsg("merger plan B"))).toEqual([]);
  });

  it("shows an admin each action in the audit log under the officer who did it", async () => {
    const page = await as("admin", "ada");
    await page.goto(`${base}/console/officers`);
    expect(await cells(page, "#officers tr[data-name] td:first-child")).toEqual(["ada", "olga", "otto", "rita"]);
    await shot(page, "12-accounts");
    await page.goto(`${base}/console/retention`);
    await shot(page, "13-retention");

    const actions = async (actor: string) => {
      await page.goto(`${base}/console/audit?actor=${actor}`);
      expect(new Set(await cells(page, "#audit td.actor"))).toEqual(new Set([actor]));
      return cells(page, "#audit td.action");
    };
    expect(await actions("rita")).toEqual(expect.arrayContaining(["console-login", "search", "conversation", "read", "export", "export-download", "console-denied"]));
    expect(await actions("olga")).toEqual(expect.arrayContaining(["console-login", "quarantine-list", "quarantine-release", "hold", "release-hold", "policy-report", "quarantine-reject-requested"]));
    expect(await actions("otto")).toEqual(expect.arrayContaining(["quarantine-reject"]));
    await page.goto(`${base}/console/audit?actor=olga&action=quarantine-release`);
    expect(await cells(page, "#audit td.body")).toEqual([expect.stringMatching(/^\{"id":\d+,"comment":"cleared by legal"\}$/)]);
    await page.goto(`${base}/console/audit?actor=otto&action=quarantine-reject`);
    expect(await cells(page, "#audit td.body")).toEqual([expect.stringMatching(/"comment":"not for us \(requested by olga, confirmed by otto\)"/)]);
    await page.goto(`${base}/console/audit`);
    await shot(page, "14-audit");
    // Every page here ran under the strict policy without needing anything it forbids.
    expect(cspViolations).toEqual([]);
  });
});
