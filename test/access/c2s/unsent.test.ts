/**
 * c2s.max_unsent_kb: a client that stops reading while messages keep coming
 * has its stream closed once what waits for it is still above the bound
 * behind_grace_s later (or passes 16 times it), instead of the gateway holding its
 * messages in memory without end; the sender and everyone else are served
 * as before, and a stream-managed session loses nothing. Loopback address:
 * 127.0.14.12.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Raw } from "./raw.js";
import { startBench, type Bench } from "./helpers.js";
import { until } from "../../helpers/wait.js";

const ADDRESS = "127.0.14.12";
const UNSENT_KB = 256;
let b: Bench;
const raws: Raw[] = [];
const SM = "urn:xmpp:sm:3";
/** Streams closed for not keeping up, by reason (or all of them). */
async function stalled(reason?: "grace_expired" | "hard_limit"): Promise<number> {
  const text = await b.gateway.context.metrics.metrics();
  let n = 0;
  for (const m of text.matchAll(/^demarc_c2s_stalled_streams_total\{([^}]*)\} (\d+)/gm)) if (!reason || m[1]!.includes(`reason="${reason}"`)) n += Number(m[2]);
  return n;
}
const BODY = "x".repeat(16 * 1024);
/** Far more than loopback's socket buffers and the bound together (64 MB at most); each loop stops as soon as the gateway has acted. */
const MAX = 4_000;

const online = (bare: string) => b.core.presenceOf(bare).state !== "offline";

async function login(user: string, password: string, resource: string): Promise<Raw> {
  const r = await Raw.direct(ADDRESS, b.caPem);
  raws.push(r);
  await r.login(user, password, resource);
  await r.write("<presence/>");
  return r;
}

beforeAll(async () => {
  b = await startBench(ADDRESS, { c2s: { max_unsent_kb: UNSENT_KB, behind_grace_s: 1 } });
  await b.addUser("stall", "stall-password-12");
  await b.addUser("alice", "alice-password-12");
  await b.addUser("smstall", "smstall-password-12");
  await b.addUser("slow", "slow-password-12");
});
afterAll(async () => {
  for (const r of raws) r.destroy();
  await b?.close();
});

describe("c2s.max_unsent_kb", () => {
  it("closes the stream of a client that stops reading, and goes on serving the sender", async () => {
    const reader = await login("stall", "stall-password-12", "r");
    await until(() => online("stall@corp.test"), 5_000, "the reader to be available");
    // A paused socket does not see its peer close it: the gateway's side says when the stream is gone.
    reader.socket.pause();

    const sender = await login("alice", "alice-password-12", "s");
    // Sent with the sender's own back-pressure; the loop ends as soon as the reader's stream is closed.
    const deadline = Date.now() + 60_000;
    let sent = 0;
    while (online("stall@corp.test") && sent < MAX && Date.now() < deadline) {
      await sender.write(`<message to='stall@corp.test/r' type='chat' id='m${sent}'><body>${BODY}</body></message>`);
      sent++;
    }
    expect(online("stall@corp.test")).toBe(false);
    expect(sent).toBeLessThan(MAX);
    // Sent as fast as the gateway takes it, the reader's backlog passes 16 times the bound before the grace ends.
    expect(await stalled("hard_limit")).toBe(1);

    // The sender's stream was never held up by the reader's: it still gets answers.
    await sender.write("<iq type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>");
    const pong = await sender.waitFor((e) => e.name === "iq" && e.attrs.id === "ping1", 10_000);
    expect(pong.attrs.type).toBe("result");
    // A later message to the user who is gone is kept for them (RFC 6121 8.5.2.1.1), not refused.
    await sender.write(`<message to='stall@corp.test' type='chat' id='after'><body>later</body></message>`);
    await until(async () => (await b.core.store.countOffline("stall@corp.test")) > 0, 5_000, "the later message to be stored offline");
  }, 120_000);

  it("parks a stream-managed session it closed for not reading, and a resumption gets every message once, in order", async () => {
    const reader = await Raw.direct(ADDRESS, b.caPem);
    raws.push(reader);
    await reader.login("smstall", "smstall-password-12", "r");
    await reader.write(`<enable xmlns='${SM}' resume='true'/>`);
    const enabled = await reader.waitFor((e) => e.name === "enabled");
    await reader.write("<presence/>");
    await until(() => online("smstall@corp.test"), 5_000, "the reader to be available");
    // What it was sent so far counts toward XEP-0198's h: none of what follows is read.
    const handled = reader.elements.filter((e) => ["message", "presence", "iq"].includes(e.name) && reader.elements.indexOf(e) > reader.elements.indexOf(enabled)).length;
    const before = await stalled();
    reader.socket.pause();

    const sender = await login("alice", "alice-password-12", "s2");
    const deadline = Date.now() + 60_000;
    let sent = 0;
    while (sent < MAX && Date.now() < deadline) {
      await sender.write(`<message to='smstall@corp.test/r' type='chat' id='q${sent}'><body>${sent} ${BODY}</body></message>`);
      sent++;
      if (sent % 16 === 0 && (await stalled()) > before) break;
    }
    expect(await stalled()).toBe(before + 1);
    expect(sent).toBeLessThan(MAX);

    // XEP-0198 section 5: a new stream resumes the parked session and is sent what was not acknowledged.
    reader.destroy();
    const again = await Raw.direct(ADDRESS, b.caPem);
    raws.push(again);
    await again.login("smstall", "smstall-password-12", "");
    await again.write(`<resume xmlns='${SM}' h='${handled}' previd='${enabled.attrs.id}'/>`);
    await again.waitFor((e) => e.name === "resumed", 10_000);
    const ids = () => again.elements.filter((e) => e.name === "message" && e.attrs.id?.startsWith("q")).map((e) => e.attrs.id);
    await again.waitFor(() => ids().length >= sent, 20_000);
    expect(ids()).toEqual(Array.from({ length: sent }, (_, k) => `q${k}`));
  }, 120_000);

  it("gives a client above the bound the grace to catch up, and closes the stream when it has not", async () => {
    const reader = await login("slow", "slow-password-12", "r");
    await until(() => online("slow@corp.test"), 5_000, "the reader to be available");
    const before = await stalled("grace_expired");
    reader.socket.pause();
    // Paced at about 3 MB/s: the grace (1 s) ends long before the backlog could reach 16 times the bound.
    const sender = await login("alice", "alice-password-12", "s3");
    const deadline = Date.now() + 60_000;
    let sent = 0;
    while (sent < MAX && Date.now() < deadline && (await stalled("grace_expired")) === before) {
      await sender.write(`<message to='slow@corp.test/r' type='chat' id='g${sent}'><body>${BODY}</body></message>`);
      sent++;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await stalled("grace_expired")).toBe(before + 1);
    expect(online("slow@corp.test")).toBe(false);
  }, 120_000);
});
