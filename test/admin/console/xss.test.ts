/**
 * Hostile text renders as text. Message bodies, subjects, addresses, thread
 * ids, rule ids, hold reasons and audited search words are taken from an XSS
 * corpus and archived; every console page that shows them is then opened in
 * headless Chromium with the Content-Security-Policy bypassed (so escaping
 * alone must hold), and the DOM is checked: each value is an element's exact
 * text, no element or event handler came from the data, and no script ran.
 * Loopback address: 127.0.36.20.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { toRecord } from "../../../src/archive/record.js";
import type { Decision } from "../../../src/model/route.js";
import { allow, envelope } from "../../archive/helpers.js";
import { addOfficer, browserLogin, launch, shot, startConsoleGateway, type ConsoleGateway } from "./helpers.js";

const CORPUS = [
  `<script>window.__xss=(window.__xss||0)+1</script>`,
  `<img src=x onerror="window.__xss=(window.__xss||0)+1">`,
  `"><svg onload="window.__xss=1">`,
  `' onmouseover='window.__xss=1' x='`,
  `</td></tr></table><script>window.__xss=1</script>`,
  `<a href="javascript:window.__xss=1">click me</a>`,
  `&lt;b&gt;already escaped&lt;/b&gt; &amp; &#39;`,
  `<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>`,
  `<div hx-get="/console/audit" hx-trigger="load" hx-target="body">htmx injection</div>`,
  `{{constructor.constructor('window.__xss=1')()}} \${window.__xss=1}`,
  `<style>body{display:none}</style><b>bold?</b>`,
  `\u202eevil-rtl <!-- comment --> <![CDATA[x]]>`,
];

let g: ConsoleGateway;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  g = await startConsoleGateway("127.0.36.20");
  await addOfficer(g.officers, "olga", "admin");
  const now = Date.now();
  const records = CORPUS.map((x, i) => {
    const env = envelope({
      receivedAt: now - (CORPUS.length - i) * 1000,
      from: `carl@partner.test/${x}`,
      to: "bob@corp.test",
      partnerDomain: "partner.test",
      subject: x,
      body: x,
      thread: x,
    });
    const held: Decision = { deliver: false, envelope: env, policyVersion: x, quarantined: true, verdicts: [{ stage: "rules", ruleId: `rule-${i}${x}`, action: "quarantine", reason: x }] };
    return toRecord(env, i % 2 === 0 ? held : allow(env, { policyVersion: x, verdicts: [{ stage: "rules", ruleId: `shadow-${i}${x}`, action: "block", reason: x, shadow: true }] }));
  });
  await g.store.append(records);
  await g.store.addHold({ createdAt: now, createdBy: "olga", scope: "user", value: CORPUS[1]!, reason: CORPUS[0]! });
  browser = await launch();
  context = await browser.newContext({ bypassCSP: true, acceptDownloads: false });
  page = await context.newPage();
  await browserLogin(page, g.base, "olga");
});

afterAll(async () => {
  await browser?.close();
  await g?.close();
});

/** Nothing the data could have created: no script ran, no foreign element, no on* attribute, our one script tag. */
async function expectNoInjection(where: string): Promise<void> {
  // A string, run in the page: the tests are type-checked without the DOM library.
  const found = await page.evaluate<Record<string, unknown>>(`({
    xss: window.__xss ?? null,
    scripts: [...document.querySelectorAll("script")].map((s) => s.getAttribute("src")),
    foreign: [...document.querySelectorAll("main img, main svg, main iframe, main style, main a[href^='javascript'], main [hx-trigger='load'], main b")].map((e) => e.outerHTML),
    handlers: [...document.querySelectorAll("*")].flatMap((e) => [...e.attributes].filter((a) => a.name.startsWith("on")).map((a) => e.tagName + " " + a.name)),
    visible: getComputedStyle(document.body).display,
  })`);
  expect({ where, ...found }).toEqual({ where, xss: null, scripts: ["/console/assets/htmx.min.js"], foreign: [], handlers: [], visible: "block" });
}

const texts = (selector: string) => page.$$eval(selector, (els) => els.map((e) => e.textContent ?? ""));

describe("the XSS corpus renders as text", () => {
  it("in search results: bodies, subjects and addresses", async () => {
    await page.goto(`${g.base}/console/search`);
    await expectNoInjection("search");
    expect((await texts("#results td.body")).sort()).toEqual([...CORPUS].sort());
    expect((await texts("#results td.subject")).sort()).toEqual([...CORPUS].sort());
    expect((await texts("#results td.from")).sort()).toEqual(CORPUS.map((x) => `carl@partner.test/${x}`).sort());
    await shot(page, "xss-search");
  });

  it("in every decision record, with rule ids, reasons and policy versions", async () => {
    for (let seq = 1; seq <= CORPUS.length; seq++) {
      await page.goto(`${g.base}/console/record/${seq}`);
      await expectNoInjection(`record ${seq}`);
      const x = CORPUS[seq - 1]!;
      expect(await page.textContent("dl.facts .body")).toBe(x);
      expect(await page.textContent("dl.facts .subject")).toBe(x);
      const cells = await texts("table td");
      expect(cells).toContain(x);
      expect(cells).toContain(`${seq % 2 === 1 ? "rule" : "shadow"}-${seq - 1}${x}`);
      expect(await texts("dl.facts dd code, dl.facts dd")).toContain(x);
    }
  });

  it("in a conversation, the quarantine queue, holds, the audit log and the policy report", async () => {
    const a = new URLSearchParams({ a: "bob@corp.test", b: "partner.test" });
    await page.goto(`${g.base}/console/conversation?${a}`);
    await expectNoInjection("conversation");
    expect((await texts(".chat .text")).sort()).toEqual([...CORPUS].sort());

    await page.goto(`${g.base}/console/quarantine`);
    await expectNoInjection("quarantine");
    expect((await texts("#queue td.body")).sort()).toEqual(CORPUS.filter((_, i) => i % 2 === 0).sort());

    await page.goto(`${g.base}/console/holds`);
    await expectNoInjection("holds");
    expect(await texts("#holds td.reason")).toEqual([CORPUS[0]]);
    expect(await texts("#holds td.value")).toEqual([CORPUS[1]]);

    // Search words are audited and shown in the audit log.
    await page.goto(`${g.base}/console/search?${new URLSearchParams({ text: CORPUS[4]! })}`);
    await page.goto(`${g.base}/console/audit?action=search`);
    await expectNoInjection("audit");
    expect((await texts("#audit td.body")).some((t) => t.includes(JSON.stringify(CORPUS[4]).slice(1, -1)))).toBe(true);

    await page.goto(`${g.base}/console/policy?since=2000-01-01`);
    await expectNoInjection("policy");
    const rules = await page.$$eval("#hits tr[data-rule]", (rows) => rows.map((r) => r.getAttribute("data-rule")));
    expect(rules.sort()).toEqual(CORPUS.map((x, i) => `${i % 2 === 0 ? "rule" : "shadow"}-${i}${x}`).sort());
  });
});
