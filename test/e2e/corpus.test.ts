/**
 * The hiding-places corpus (test/fixtures/corpus/*.xml): one stanza per place
 * a word can hide (body and its encodings and look-alikes, subject, XHTML-IM text and
 * attributes, out-of-band description, file-transfer name, MUC invitation
 * reasons, nickname, correction, an unknown extension's text and attribute,
 * presence status and nickname), sent over c2s (to a c2s user and, over s2s,
 * to a real Prosody partner) and from the Prosody partner over real s2s. A
 * block rule names the word: every stanza is blocked, or its unknown
 * extension is stripped at the edge; none arrives carrying the word, and the
 * archive shows what was decided.
 * Loopback addresses: 127.0.41.1 (demarc), .2 (DNS), .11 (Prosody).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa } from "../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../helpers/prosody.js";
import { loginPartnerUser, type PartnerUser } from "../helpers/xmpp-client.js";
import { startBench, login, xml, type Bench, type User } from "../access/c2s/helpers.js";
import { tlsModule } from "../../src/tls/module.js";
import { s2sModule } from "../../src/edge/xmpp/module.js";
import { complianceModule } from "../../src/pipeline/module.js";
import { archiveModule } from "../../src/archive/module.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { parseArchivedContent } from "../../src/archive/content.js";
import type { StoredRecord } from "../../src/archive/record.js";
import { contentParts, matchable } from "../../src/pipeline/content.js";
import { stanzaToEnvelope } from "../../src/xmpp/translate.js";
import { Parser, type Element } from "../../src/xmpp/xml.js";
import { until } from "../helpers/wait.js";

const DEMARC = "127.0.41.1";
const DNS_ADDR = "127.0.41.2";
const PEER = "127.0.41.11";
const WORD = /bluebird/i;
const FIXTURES = join(import.meta.dirname, "../fixtures/corpus");

const POLICY = `kind: policy
rules:
  - id: corpus-bluebird
    when: { words: [bluebird] }
    then: { action: block, reason: "That topic may not be discussed." }
`;

type Dir = "internal" | "outbound" | "inbound";
type Outcome = "blocked" | "stripped" | "dropped";

const corpus = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".xml"))
  .sort()
  .map((f) => ({ name: f.slice(0, -4), text: readFileSync(join(FIXTURES, f), "utf8").trim() }));

/**
 * What must happen to each stanza. Unknown extensions are stripped where they
 * cross the edge (the default of `extensions:`) and pass between internal
 * users, where the rule reads their text. A c2s client's presence reaches
 * the core as a rich state with its status only, so its nickname is dropped.
 */
function expected(name: string, dir: Dir): Outcome {
  if (name.startsWith("unknown-extension")) return dir === "internal" ? "blocked" : "stripped";
  if (name === "presence-nickname" && dir !== "inbound") return "dropped";
  return "blocked";
}

let dns: DnsServerHandle;
let peer: ProsodyHandle;
let b: Bench;
let alice: PartnerUser;
let bob: User;
let carol: User;
let store: KnexArchiveStore;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "corpus-"));
  const ca = createTestCa(join(dir, "ca"));
  const policies = join(dir, "policies");
  mkdirSync(policies);
  writeFileSync(join(policies, "10-corpus.yaml"), POLICY);
  dns = await startDnsServer(DNS_ADDR, {
    a: { "corp.test": [DEMARC], "partner-a.test": [PEER] },
    srv: {
      "_xmpp-server._tcp.corp.test": [{ priority: 10, weight: 1, port: 15269, target: "corp.test" }],
      "_xmpp-server._tcp.partner-a.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-a.test" }],
    },
  });
  peer = await startProsody({ domain: "partner-a.test", address: PEER, ca, dnsServer: dns.server, secureAuth: true, users: { alice: "pw" } });
  const tls = tlsModule();
  const compliance = complianceModule();
  const archive = archiveModule();
  // startBench wires these two into the core, as the composition root does.
  b = await startBench(
    DEMARC,
    {
      tls: { trust: { system: false, ca_files: [ca.certPath] } },
      dns: { servers: [dns.server], timeout_ms: 1000 },
      s2s: { starttls: { host: DEMARC, port: 15269 }, direct_tls: { host: DEMARC, port: 15270 } },
      partners: [{ domain: "partner-a.test", auth: ["certificate"] }],
      policy: { dir: policies, watch: false },
      archive: { url: "sqlite:core.db", journal: { commit_delay_ms: 1 } },
    },
    { ca, modules: { before: [compliance, tls, archive], after: [s2sModule(tls)] } },
  );
  store = new KnexArchiveStore(b.gateway.context.db);
  await b.addUser("bob");
  await b.addUser("carol");
  alice = await loginPartnerUser({ address: PEER, domain: "partner-a.test", username: "alice", password: "pw", caPem: ca.certPem });
  await alice.send(xml("iq", { type: "get", id: "r1" }, xml("query", { xmlns: "jabber:iq:roster" })));
  await alice.presence();
  [bob, carol] = await Promise.all([login(b, "bob", { resource: "desk" }), login(b, "carol", { resource: "desk" })]);
  for (const u of [bob, carol]) {
    await u.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    await u.send(xml("presence"));
  }
  await subscribeBothWays();
}, 60_000);

afterAll(async () => {
  await Promise.all([bob?.stop(), carol?.stop(), alice?.stop()]);
  await b?.close();
  await peer?.stop();
  await dns?.close();
});

const dump = () => `\n--- prosody ---\n${peer.log().slice(-3000)}`;
const orDump = <T>(p: Promise<T>) => p.catch((err: Error) => Promise.reject(new Error(`${err.message}${dump()}`)));
const from = (prefix: string) => (el: Element) => (el.attrs.from ?? "").startsWith(prefix);
const available = (who: string) => (el: Element) => el.name === "presence" && from(who)(el) && el.attrs.type === undefined;

async function subscribeBothWays(): Promise<void> {
  await bob.send(xml("presence", { to: "alice@partner-a.test", type: "subscribe" }));
  await orDump(alice.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe" && el.attrs.from === "bob@corp.test"));
  await alice.send(xml("presence", { to: "bob@corp.test", type: "subscribed" }));
  await alice.send(xml("presence", { to: "bob@corp.test", type: "subscribe" }));
  await orDump(bob.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe" && el.attrs.from === "alice@partner-a.test"));
  await bob.send(xml("presence", { to: "alice@partner-a.test", type: "subscribed" }));
  // carol watches bob.
  await carol.send(xml("presence", { to: "bob@corp.test", type: "subscribe" }));
  await bob.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe" && el.attrs.from === "carol@corp.test");
  await bob.send(xml("presence", { to: "carol@corp.test", type: "subscribed" }));
  await bob.send(xml("presence"));
  await orDump(alice.waitFor(available("bob@corp.test")));
  await carol.waitFor(available("bob@corp.test"));
  await alice.presence();
  await orDump(bob.waitFor(available("alice@partner-a.test")));
}

/** The fixture with its addressing: to, id and (for messages) a thread that finds its archive record. */
function address(text: string, to: string | undefined, tag: string): string {
  const open = text.replace(/^<(message|presence)/, (_m, n: string) => `<${n}${to ? ` to='${to}'` : ""} id='${tag}'`);
  return open.startsWith("<message") ? open.replace(/<\/message>$/, `<thread>${tag}</thread></message>`) : open;
}

function parse(text: string): Element {
  let out: Element | undefined;
  const p = new Parser();
  p.on("element", (el: Element) => (out = el));
  p.write(`<s xmlns='jabber:client'>${text}</s>`);
  return out!;
}

/** From a c2s user the stanza goes out as the fixture's own bytes (entities and CDATA as written); Prosody's client re-serialises. */
async function sendAs(who: "bob" | "alice", text: string): Promise<void> {
  if (who === "bob") await bob.xmpp.write(text);
  else await alice.send(parse(text));
}

const carries = (el: Element) => WORD.test(matchable(el.toString()));
let markers = 0;

/** A clean stanza after the one under test: once it arrives, anything sent before it on that path has arrived too. */
async function marker(who: "bob" | "alice", kind: "message" | "presence", receivers: { to: string; user: { waitFor(m: (el: Element) => boolean, t?: number): Promise<Element> } }[]): Promise<void> {
  const text = `marker-${++markers}`;
  if (kind === "presence") await sendAs(who, `<presence><status>${text}</status></presence>`);
  for (const r of receivers) {
    if (kind === "message") await sendAs(who, `<message to='${r.to}' type='chat'><body>${text}</body></message>`);
    await orDump(r.user.waitFor((el) => el.name === kind && (kind === "message" ? el.getChildText("body") : el.getChildText("status")) === text, 10_000));
  }
}

const MESSAGE_PATHS: { dir: Dir; sender: "bob" | "alice"; to: string; receiver: () => User | PartnerUser }[] = [
  { dir: "internal", sender: "bob", to: "carol@corp.test", receiver: () => carol },
  { dir: "outbound", sender: "bob", to: "alice@partner-a.test", receiver: () => alice },
  { dir: "inbound", sender: "alice", to: "bob@corp.test", receiver: () => bob },
];

const sent: { name: string; dir: Dir; tag: string; outcome: Outcome; kind: "message" | "presence"; sender: string }[] = [];

describe("the hiding-places corpus over c2s and over real s2s from Prosody", () => {
  it("has a fixture for every place a word can hide", () => {
    expect(corpus.map((c) => c.name)).toEqual(
      expect.arrayContaining(["body", "subject", "xhtml", "oob-description", "file-transfer-name", "muc-invitation-mediated", "muc-invitation-direct", "presence-status", "nickname", "correction", "unknown-extension-text"]),
    );
    // Each hides the word in a part the edge reads (not only in its wire text).
    for (const c of corpus) {
      const env = stanzaToEnvelope(parse(address(c.text, "bob@corp.test", "t")).attr("from", "alice@partner-a.test/x"), "partner-a.test", { auth: "certificate" });
      expect(contentParts(env).some((p) => WORD.test(matchable(p.text))), c.name).toBe(true);
    }
  });

  it("blocks or strips every message, in every direction; none arrives carrying the word", async () => {
    for (const c of corpus.filter((x) => x.text.startsWith("<message"))) {
      for (const p of MESSAGE_PATHS) {
        const tag = `corpus-${c.name}-${p.dir}`;
        const outcome = expected(c.name, p.dir);
        sent.push({ name: c.name, dir: p.dir, tag, outcome, kind: "message", sender: p.sender === "bob" ? "bob@corp.test" : "alice@partner-a.test" });
        await sendAs(p.sender, address(c.text, p.to, tag));
        const senderUser = p.sender === "bob" ? bob : alice;
        if (outcome === "blocked") {
          const err = await orDump(senderUser.waitFor((el) => el.name === "message" && el.attrs.id === tag && el.attrs.type === "error", 10_000));
          expect(err.getChild("error")?.getChild("policy-violation", "urn:ietf:params:xml:ns:xmpp-stanzas"), tag).toBeDefined();
          expect(carries(err), tag).toBe(false);
        } else {
          const got = await orDump(p.receiver().waitFor((el) => el.name === "message" && el.getChildText("thread") === tag, 10_000));
          expect(got.getChild("x", "urn:example:corpus"), tag).toBeUndefined();
          expect(got.getChildText("body")).toBe("an extension rides along");
        }
        await marker(p.sender, "message", [{ to: p.to, user: p.receiver() }]);
        const arrived = p.receiver().received.filter((el: Element) => el.name === "message" && carries(el));
        expect(arrived.map(String), tag).toEqual([]);
      }
    }
  }, 120_000);

  it("blocks a presence status with the word across the edge both ways, and no nickname with it arrives", async () => {
    for (const c of corpus.filter((x) => x.text.startsWith("<presence"))) {
      sent.push({ name: c.name, dir: "outbound", tag: `bob-${c.name}`, outcome: expected(c.name, "outbound"), kind: "presence", sender: "bob@corp.test" });
      await sendAs("bob", address(c.text, undefined, `bob-${c.name}`));
      await marker("bob", "presence", [{ to: "alice@partner-a.test", user: alice }, { to: "carol@corp.test", user: carol }]);
      sent.push({ name: c.name, dir: "inbound", tag: `alice-${c.name}`, outcome: expected(c.name, "inbound"), kind: "presence", sender: "alice@partner-a.test" });
      await sendAs("alice", address(c.text, undefined, `alice-${c.name}`));
      await marker("alice", "presence", [{ to: "bob@corp.test", user: bob }]);
    }
    // Prosody shows alice her own presence: only what reached someone else counts.
    const others = (u: User | PartnerUser) => u.received.filter((el: Element) => el.name === "presence" && !from(u.jid.split("/")[0]!)(el));
    for (const u of [alice, bob, carol]) expect(others(u).filter(carries).map(String)).toEqual([]);
    // The dropped nickname: bob's presence with status "around" reached both, without it.
    expect(alice.received.some((el: Element) => el.name === "presence" && el.getChildText("status") === "around")).toBe(true);
  }, 60_000);

  it("withholds a presence status with the word from an internal contact too: the state shows, the status does not", () => {
    const fromBob = carol.received.filter((el: Element) => el.name === "presence" && from("bob@corp.test")(el));
    expect(fromBob.filter(carries).map(String)).toEqual([]);
    expect(fromBob.some((el) => el.attrs.type === undefined && el.getChildText("status") === null)).toBe(true);
  });

  it("the archive shows what was decided for each: blocked with the rule, or delivered with the extension stripped", async () => {
    const messages = sent.filter((s) => s.kind === "message");
    const all = () => store.find({}, { limit: 5000 });
    const blockedPresence = (rs: StoredRecord[]) => rs.filter((r) => r.kind === "presence" && r.verdict === "block" && r.ruleId === "corpus-bluebird");
    const expectBlocked = sent.filter((s) => s.kind === "presence" && s.outcome === "blocked");
    // The archive writer moves journaled records into the database a moment after they are routed.
    const records = await until(async () => {
      const rs = await all();
      return messages.every((s) => rs.some((r) => r.thread === s.tag)) && blockedPresence(rs).length >= expectBlocked.length && rs;
    }, 15_000, "every record archived").catch(all);
    for (const s of messages) {
      const r = records.find((x) => x.thread === s.tag);
      expect(r, s.tag).toBeDefined();
      if (s.outcome === "blocked") {
        expect({ tag: s.tag, verdict: r!.verdict, rule: r!.ruleId }).toEqual({ tag: s.tag, verdict: "block", rule: "corpus-bluebird" });
        expect(r!.deliveredBody).toBeNull();
        expect(parseArchivedContent(r!.content)?.delivered).toBeUndefined();
      } else {
        expect({ tag: s.tag, verdict: r!.verdict }).toEqual({ tag: s.tag, verdict: "allow" });
        expect(JSON.parse(r!.verdicts)).toContainEqual(expect.objectContaining({ stage: "extensions", action: "strip" }));
        const c = parseArchivedContent(r!.content)!;
        expect(c.received.extensions?.[0]?.ns).toBe("urn:example:corpus");
        expect(c.delivered && "extensions" in c.delivered).toBe(false);
      }
    }
    // bob's status is screened once by the core, as internal presence, before anyone sees it: alice then gets his state without it.
    const presence = blockedPresence(records);
    expect(presence.map((r) => [r.direction, r.from.split("/")[0]]).sort()).toEqual(
      expectBlocked.map((s) => [s.sender === "bob@corp.test" ? "internal" : "inbound", s.sender]).sort(),
    );
  }, 30_000);
});
