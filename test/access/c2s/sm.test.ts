/**
 * XEP-0198 on client streams: the queue of what the client has not
 * acknowledged is bounded (c2s.max_unacked). A client still above it
 * behind_grace_s after it went above has its stream closed with
 * resource-constraint; what it never acknowledged is not lost but goes to
 * offline storage (section 4). Acknowledgements in steps over a long run keep
 * the count right as the acknowledged part of the queue is dropped.
 * Loopback address: 127.0.14.13.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Raw } from "./raw.js";
import { startBench, type Bench } from "./helpers.js";
import { until } from "../../helpers/wait.js";

const ADDRESS = "127.0.14.13";
const SM = "urn:xmpp:sm:3";
const MAX_UNACKED = 100;
let b: Bench;
const raws: Raw[] = [];

async function login(user: string, resource: string): Promise<Raw> {
  const r = await Raw.direct(ADDRESS, b.caPem);
  raws.push(r);
  await r.login(user, `${user}-password-12`, resource);
  return r;
}

async function availableReader(user: string): Promise<Raw> {
  const r = await login(user, "r");
  await r.write(`<enable xmlns='${SM}'/>`);
  await r.waitFor((e) => e.name === "enabled");
  await r.write("<presence/>");
  await until(() => b.core.presenceOf(`${user}@corp.test`).state !== "offline", 5_000, "the reader to be available");
  return r;
}

const messagesTo = (r: Raw, prefix: string) => r.elements.filter((e) => e.name === "message" && e.attrs.id?.startsWith(prefix));

beforeAll(async () => {
  b = await startBench(ADDRESS, { c2s: { max_unacked: MAX_UNACKED, behind_grace_s: 1 } });
  for (const u of ["acker", "lazy", "alice"]) await b.addUser(u, `${u}-password-12`);
});
afterAll(async () => {
  for (const r of raws) r.destroy();
  await b?.close();
});

describe("c2s XEP-0198 unacknowledged stanzas", () => {
  it("takes acknowledgements in steps over a long run, and refuses one of more than were sent", async () => {
    const reader = await availableReader("acker");
    const sender = await login("alice", "s1");
    // 1,500 stanzas acknowledged 50 at a time: the queue's acknowledged part is dropped as it goes.
    const N = 1_500;
    const STEP = 50;
    for (let k = 0; k < N; k += STEP) {
      for (let j = k; j < k + STEP; j++) await sender.write(`<message to='acker@corp.test/r' type='chat' id='a${j}'><body>${j}</body></message>`);
      await reader.waitFor(() => messagesTo(reader, "a").length === k + STEP, 10_000);
      // h counts every stanza received since <enable/>; only these messages were sent to it since.
      await reader.write(`<a xmlns='${SM}' h='${k + STEP}'/>`);
    }
    await reader.write(`<r xmlns='${SM}'/>`);
    await reader.waitFor((e) => e.name === "a");
    expect(reader.streamError()).toBeUndefined();
    expect(messagesTo(reader, "a").map((e) => e.attrs.id)).toEqual(Array.from({ length: N }, (_, k) => `a${k}`));
    // Section 4: acknowledging more than was ever sent is an error.
    await reader.write(`<a xmlns='${SM}' h='${N + 1}'/>`);
    await reader.waitFor((e) => e.name === "stream:error", 10_000);
    expect(reader.streamError()).toBe("undefined-condition");
  }, 60_000);

  it("closes the stream of a client that reads but never acknowledges, and keeps what it did not acknowledge offline", async () => {
    const reader = await availableReader("lazy");
    const sender = await login("alice", "s2");
    const N = MAX_UNACKED + 20;
    for (let k = 0; k < N; k++) await sender.write(`<message to='lazy@corp.test/r' type='chat' id='l${k}'><body>${k}</body></message>`);
    // It reads everything, but answers no <r/>: past max_unacked for the grace, its stream ends.
    await reader.waitFor((e) => e.name === "stream:error", 15_000);
    expect(reader.streamError()).toBe("resource-constraint");
    expect(messagesTo(reader, "l").length).toBe(N);
    // Nothing it never acknowledged is lost: all of it waits offline (the stream was not resumable).
    await until(async () => (await b.core.store.countOffline("lazy@corp.test")) >= N, 10_000, "what it never acknowledged to be stored offline");
    expect(await b.core.store.countOffline("lazy@corp.test")).toBe(N);
  }, 60_000);
});
