/**
 * A synthetic partner load: many partner domains, each with one s2s stream
 * to demarc (STARTTLS, SASL EXTERNAL with a certificate from the test CA),
 * all writing numbered messages to one demarc user at once. The aggregate is
 * what the edge sustains across partners; each stream's order is checked.
 */
import type { TestCa } from "../../test/helpers/ca.js";
import { RawPeer, header } from "../../test/helpers/xmpp-raw.js";
import type { BenchClient } from "./clients.js";

export const syntheticDomains = (n: number) => Array.from({ length: n }, (_, i) => `p${i + 1}.test`);

const CHUNK = 250;

async function openStream(ca: TestCa, domain: string, address: string, port: number): Promise<RawPeer> {
  const cert = ca.issue({ name: domain, domains: [domain] });
  const p = await RawPeer.connect(address, port);
  await p.write(header(domain, "corp.test"));
  await p.expect(/<starttls/, 10_000);
  await p.starttls({ ca: ca.certPem, cert: cert.cert, key: cert.key, servername: "corp.test" });
  await p.write(header(domain, "corp.test"));
  await p.expect(/EXTERNAL/, 10_000);
  await p.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>`);
  await p.expect(/<success/, 10_000);
  await p.write(header(domain, "corp.test"));
  await p.expect(/<stream:features/, 10_000);
  p.text = "";
  return p;
}

async function blast(p: RawPeer, domain: string, run: string, to: string, n: number): Promise<void> {
  for (let i = 1; i <= n; i += CHUNK) {
    let chunk = "";
    for (let k = i; k < i + CHUNK && k <= n; k++) {
      chunk += `<message from='load@${domain}' to='${to}' type='chat' id='${run}-${k}'><body>${run}-${k}</body></message>`;
    }
    if (!(await p.write(chunk))) throw new Error(`${domain}: stream closed by demarc: ${p.text.slice(-300)}`);
  }
}

export interface SyntheticStream {
  domain: string;
  peer: RawPeer;
}

/** One authenticated stream per domain, opened before anything is timed. */
export async function openStreams(ca: TestCa, domains: string[], at: { address: string; port: number }): Promise<SyntheticStream[]> {
  return Promise.all(domains.map(async (domain) => ({ domain, peer: await openStream(ca, domain, at.address, at.port) })));
}

export async function syntheticRun(
  streams: SyntheticStream[],
  perStream: number,
  receivers: BenchClient[],
): Promise<{ messages: number; seconds: number; rate: number; inOrder: boolean }> {
  try {
    // Streams spread over several users, as partners write to many people: one
    // user's client taking everything would be the bottleneck (and its XEP-0198 queue).
    const receiverOf = (i: number) => receivers[i % receivers.length]!;
    const runs = streams.map((s) => `syn${s.domain.split(".")[0]}`);
    const t0 = performance.now();
    const arrived = Promise.all(runs.map((r, i) => receiverOf(i).waitFor(r, perStream, Math.max(120_000, perStream * streams.length * 5))));
    await Promise.all(streams.map((s, i) => blast(s.peer, s.domain, runs[i]!, receiverOf(i).jid.split("/")[0]!, perStream)));
    await arrived;
    const seconds = (performance.now() - t0) / 1000;
    const messages = perStream * streams.length;
    return { messages, seconds, rate: messages / seconds, inOrder: runs.every((r, i) => receiverOf(i).count(r).inOrder) };
  } finally {
    for (const s of streams) s.peer.destroy();
  }
}
