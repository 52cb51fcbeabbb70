/**
 * Limits on client streams: every failed SASL exchange counts toward
 * c2s.max_auth_attempts (a wrong SCRAM proof fails on <response/>, not on
 * <auth/>), and c2s.max_streams_per_ip caps the streams one address holds.
 * Loopback address: 127.0.14.7.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Raw, HEADER } from "./raw.js";
import { ScramSha256Client, startBench, type Bench } from "./helpers.js";

const ADDRESS = "127.0.14.7";
const SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
let b: Bench;
const raws: Raw[] = [];
const streamError = (r: Raw) => /<stream:error><([a-z-]+) /.exec(r.text)?.[1];

async function direct(): Promise<Raw> {
  const r = await Raw.direct(ADDRESS, b.caPem);
  raws.push(r);
  r.write(HEADER);
  await r.waitFor((e) => e.name === "stream:features");
  return r;
}

/** One SCRAM-SHA-256 exchange with a proof that cannot be right (the nonce is the server's, so only the proof is wrong). */
async function wrongScram(r: Raw): Promise<void> {
  const challenges = () => r.elements.filter((e) => e.name === "challenge");
  const failures = () => r.elements.filter((e) => e.name === "failure").length;
  const [c0, f0] = [challenges().length, failures()];
  const first = `n,,n=alice,r=${randomBytes(12).toString("base64")}`;
  r.write(`<auth xmlns='${SASL}' mechanism='SCRAM-SHA-256'>${Buffer.from(first).toString("base64")}</auth>`);
  await r.waitFor(() => challenges().length === c0 + 1, 10_000);
  const chal = Buffer.from(challenges()[c0]!.getText(), "base64").toString();
  const nonce = /(?:^|,)r=([^,]+)/.exec(chal)![1]!;
  r.write(`<response xmlns='${SASL}'>${Buffer.from(`c=biws,r=${nonce},p=${randomBytes(32).toString("base64")}`).toString("base64")}</response>`);
  await r.waitFor(() => failures() === f0 + 1, 10_000);
}

beforeAll(async () => {
  b = await startBench(ADDRESS, { c2s: { max_auth_attempts: 3, max_streams_per_ip: 3 } });
  await b.addUser("alice", "right-password-12");
  await b.addUser("zo\u00EB", "zoe-password-12");
});
afterAll(async () => {
  for (const r of raws) r.destroy();
  await b?.close();
});

describe("c2s login names", () => {
  it("prepares the SASL username per PRECIS: NFD and upper-case spellings log in to the NFC account", async () => {
    const b64 = (t: string) => Buffer.from(t, "utf8").toString("base64");
    // PLAIN with the NFD, upper-case spelling.
    const plain = await direct();
    plain.write(`<auth xmlns='${SASL}' mechanism='PLAIN'>${b64("\0ZOE\u0308\0zoe-password-12")}</auth>`);
    await plain.waitFor((e) => e.name === "success" || e.name === "failure", 10_000);
    expect(plain.elements.map((e) => e.name)).toContain("success");
    plain.destroy();
    // SCRAM-SHA-256 with the NFD spelling: the server looks up the NFC account's credential.
    const scram = await direct();
    const client = new ScramSha256Client();
    const cred = { username: "zoe\u0308", password: "zoe-password-12" };
    scram.write(`<auth xmlns='${SASL}' mechanism='SCRAM-SHA-256'>${b64(client.response(cred))}</auth>`);
    const chal = await scram.waitFor((e) => e.name === "challenge" || e.name === "failure", 10_000);
    expect(chal.name).toBe("challenge");
    scram.write(`<response xmlns='${SASL}'>${b64(client.challenge(Buffer.from(chal.getText(), "base64").toString()).response(cred))}</response>`);
    const end = await scram.waitFor((e) => e.name === "success" || e.name === "failure", 10_000);
    expect(end.name).toBe("success");
    scram.destroy();
  });
});

describe("c2s SASL attempts", () => {
  it("closes the stream with policy-violation after max_auth_attempts wrong SCRAM proofs", async () => {
    const r = await direct();
    await wrongScram(r);
    await wrongScram(r);
    expect(r.closed).toBe(false);
    await wrongScram(r);
    await r.waitClosed(10_000);
    expect(streamError(r)).toBe("policy-violation");
    expect(r.elements.filter((e) => e.name === "failure").map((f) => f.getChildElements()[0]?.name)).toEqual(["not-authorized", "not-authorized", "not-authorized"]);
    r.destroy();
  });

  it("counts PLAIN and SCRAM failures together on one stream", async () => {
    const r = await direct();
    r.write(`<auth xmlns='${SASL}' mechanism='PLAIN'>${Buffer.from("\0alice\0nope").toString("base64")}</auth>`);
    await r.waitFor(() => r.elements.filter((e) => e.name === "failure").length === 1, 10_000);
    await wrongScram(r);
    r.write(`<auth xmlns='${SASL}' mechanism='PLAIN'>${Buffer.from("\0alice\0nope").toString("base64")}</auth>`);
    await r.waitClosed(10_000);
    expect(streamError(r)).toBe("policy-violation");
    r.destroy();
  });
});

/**
 * Opens a stream once the server has a slot for this address: the server sees
 * a closed socket asynchronously, so this retries, bounded in count and time.
 */
async function openWhenFree(): Promise<Raw> {
  for (let i = 0; i < 50; i++) {
    const r = await Raw.direct(ADDRESS, b.caPem);
    raws.push(r);
    r.write(HEADER);
    try {
      await r.waitFor((e) => e.name === "stream:features", 1_000);
      return r;
    } catch {
      r.destroy();
    }
  }
  throw new Error("no c2s slot came free");
}

describe("c2s.max_streams_per_ip", () => {
  it("refuses a stream over the cap with policy-violation, and takes one again when a slot frees", async () => {
    const held = [await openWhenFree(), await openWhenFree(), await openWhenFree()];
    const over = await Raw.direct(ADDRESS, b.caPem);
    raws.push(over);
    await over.waitClosed(5_000);
    expect(streamError(over)).toBe("policy-violation");
    expect(over.text).toContain("too many streams from this address");
    held[0]!.destroy();
    await held[0]!.waitClosed();
    await openWhenFree();
    expect(held[1]!.closed || held[2]!.closed).toBe(false);
  });
});
