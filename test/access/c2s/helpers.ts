/**
 * c2s test bench: an in-process gateway with only the core and c2s modules on
 * a loopback address of the test's own, a test CA certificate for corp.test,
 * and real @xmpp/client users that trust that CA through TLS options.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
// @ts-ignore -- @xmpp/client ships no type declarations
import { client, xml } from "@xmpp/client";
import type { Gateway } from "../../../src/gateway/gateway.js";
import { coreModule, type CoreWiring } from "../../../src/gateway/core-module.js";
import { c2sModule } from "../../../src/access/c2s/module.js";
import type { PresenceCore } from "../../../src/core/core.js";
import { makeCredentials } from "../../../src/access/c2s/credentials.js";
import type { Element } from "../../../src/xmpp/xml.js";
import { createTestCa, type TestCa } from "../../helpers/ca.js";
import { trustTestCa } from "../../helpers/xmpp-tls.js";
import { gatewayDir, startGateway } from "../../helpers/gateway.js";
import type { GatewayModule } from "../../../src/module.js";
import type { Archiver, Compliance } from "../../../src/model/route.js";

export { xml };

/**
 * Off the standard ports: a system XMPP server may hold 0.0.0.0:5222, which
 * covers every loopback address.
 */
export const C2S_PORT = 16222;
export const C2S_TLS_PORT = 16223;

export interface Bench {
  address: string;
  dir: string;
  caPem: string;
  gateway: Gateway;
  core: PresenceCore;
  addUser(local: string, password?: string, group?: string): Promise<string>;
  close(): Promise<void>;
}

export interface BenchOptions {
  /** The CA to issue corp.test's certificate from (default: a new one). */
  ca?: TestCa;
  /** Modules around the core and c2s, in gateway order: [before core, between core and c2s]. */
  modules?: { before?: GatewayModule[]; after?: GatewayModule[] };
  /** What the core is wired to (group directory, walls), as the composition root does. */
  core?: CoreWiring;
}

/**
 * The core wired to the compliance and archive modules among those started before it, as the
 * composition root wires them: a bench with compliance then screens the statuses the core fans
 * out itself, instead of silently leaving them unchecked.
 */
function wiringFrom(before: GatewayModule[]): CoreWiring {
  const compliance = before.find((m) => m.name === "compliance") as { pipeline?: Compliance } | undefined;
  const archive = before.find((m) => m.name === "archive") as { service?: Archiver } | undefined;
  return {
    ...(compliance ? { compliance: () => compliance.pipeline } : {}),
    ...(archive ? { archive: () => archive.service } : {}),
  };
}

export async function startBench(address: string, extra: Record<string, unknown> = {}, opts: BenchOptions = {}): Promise<Bench> {
  const dir = gatewayDir("demarc-c2s-");
  const ca = opts.ca ?? createTestCa(join(dir, "ca"));
  const leaf = ca.issue({ name: "corp", domains: ["corp.test"], xmppAddrs: ["corp.test"] });
  const coreMod = coreModule(opts.core ?? wiringFrom(opts.modules?.before ?? []));
  const { gateway, close } = await startGateway({
    dir,
    settings: {
      domains: ["corp.test"],
      data_dir: dir,
      log: { level: "silent", format: "json" },
      admin: { enabled: false },
      archive: { url: "sqlite:core.db" },
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "c2s" && k !== "tls")),
      tls: { dir: join(dir, "certs"), certificates: [{ cert: leaf.certPath, key: leaf.keyPath }], ...((extra.tls as object) ?? {}) },
      c2s: { starttls: { host: address, port: C2S_PORT }, direct_tls: { host: address, port: C2S_TLS_PORT }, resume_timeout_s: 5, ...((extra.c2s as object) ?? {}) },
    },
    modules: [...(opts.modules?.before ?? []), coreMod, ...(opts.modules?.after ?? []), c2sModule({ core: () => coreMod.core! })],
  });
  const core = coreMod.core!;
  trustTestCa(ca.certPem);
  return {
    address,
    dir,
    caPem: ca.certPem,
    gateway,
    core,
    async addUser(local, password = "pw-" + local, group) {
      const jid = `${local}@corp.test`;
      await core.store.putUser({ jid, group, credentials: makeCredentials(password) });
      return jid;
    },
    async close() {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A SCRAM-SHA-256 client mechanism (RFC 7677) for @xmpp/client, which only ships SCRAM-SHA-1. */
export class ScramSha256Client {
  name = "SCRAM-SHA-256";
  clientFirst = true;
  private stage = "initial";
  private cnonce = randomBytes(12).toString("base64");
  private bare = "";
  private chal: Record<string, string> = {};
  private expected = "";
  response(cred: { username: string; password: string }): string {
    if (this.stage === "initial") {
      this.stage = "challenge";
      this.bare = `n=${cred.username},r=${this.cnonce}`;
      return `n,,${this.bare}`;
    }
    const sp = pbkdf2Sync(cred.password, Buffer.from(this.chal.s!, "base64"), Number(this.chal.i), 32, "sha256");
    const ck = createHmac("sha256", sp).update("Client Key").digest();
    const without = `c=biws,r=${this.chal.r}`;
    const auth = `${this.bare},${Object.entries(this.chal).map(([k, v]) => `${k}=${v}`).join(",")},${without}`;
    const sig = createHmac("sha256", createHash("sha256").update(ck).digest()).update(auth).digest();
    this.expected = `v=${createHmac("sha256", createHmac("sha256", sp).update("Server Key").digest()).update(auth).digest("base64")}`;
    ScramSha256Client.expectedSignature = this.expected;
    return `${without},p=${Buffer.from(ck.map((b, i) => b ^ sig[i]!)).toString("base64")}`;
  }
  static expectedSignature = "";
  challenge(chal: string): this {
    this.chal = Object.fromEntries(chal.split(",").map((p) => [p[0]!, p.slice(2)]));
    return this;
  }
}

export interface User {
  jid: string;
  xmpp: any;
  received: Element[];
  send(el: Element): Promise<void>;
  iq(el: Element): Promise<Element>;
  waitFor(match: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
  /** Everything matching received so far. */
  all(match: (el: Element) => boolean): Element[];
  /** The SASL mechanism the client chose, from its <auth/>. */
  mechanism: string | undefined;
  /** The decoded additional data of the server's SASL <success/> (SCRAM: its v= signature). */
  saslSuccess: string | undefined;
  stop(): Promise<void>;
}

export interface LoginOptions {
  resource?: string;
  password?: string;
  direct?: boolean;
  scram256?: boolean;
  /** When the gateway's c2s listener is not on the bench's ports. */
  port?: number;
}

const SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl";

export async function login(b: Pick<Bench, "address" | "caPem">, local: string, o: LoginOptions = {}): Promise<User> {
  trustTestCa(b.caPem);
  const xmpp = client({
    service: o.direct ? `xmpps://${b.address}:${o.port ?? C2S_TLS_PORT}` : `xmpp://${b.address}:${o.port ?? C2S_PORT}`,
    domain: "corp.test",
    username: local,
    password: o.password ?? "pw-" + local,
    resource: o.resource ?? "r1",
    // The client's own wait for each stream step is 2 s by default: too short for a loaded machine.
    timeout: 15_000,
  });
  xmpp.reconnect.stop();
  if (o.scram256) xmpp.saslFactory._mechs.unshift({ name: "SCRAM-SHA-256", mech: ScramSha256Client });
  const received: Element[] = [];
  const waiters = new Set<{ match: (el: Element) => boolean; resolve: (el: Element) => void }>();
  xmpp.on("error", () => undefined);
  const sasl = { mechanism: undefined as string | undefined, success: undefined as string | undefined };
  xmpp.on("send", (el: Element) => {
    if (el.name === "auth" && el.attrs.xmlns === SASL_NS) sasl.mechanism = el.attrs.mechanism;
  });
  xmpp.on("nonza", (el: Element) => {
    if (el.name === "success" && el.attrs.xmlns === SASL_NS) sasl.success = Buffer.from(el.getText(), "base64").toString("utf8");
  });
  xmpp.on("stanza", (el: Element) => {
    received.push(el);
    for (const w of waiters) if (w.match(el)) (waiters.delete(w), w.resolve(el));
  });
  await xmpp.start();
  const u: User = {
    jid: xmpp.jid.toString(),
    xmpp,
    received,
    send: (el) => xmpp.send(el),
    iq: (el) => xmpp.iqCaller.request(el, 5_000),
    all: (match) => received.filter(match),
    mechanism: sasl.mechanism,
    saslSuccess: sasl.success,
    waitFor(match, timeoutMs = 5_000) {
      const have = received.find(match);
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiters.add(w);
        setTimeout(() => {
          if (waiters.delete(w)) reject(new Error(`not received within ${timeoutMs} ms; got ${received.map(String).join("\n")}`));
        }, timeoutMs).unref();
      });
    },
    async stop() {
      await xmpp.stop().catch(() => undefined);
    },
  };
  return u;
}

export const body = (el: Element) => el.getChildText("body");
export const isMsg = (text: string) => (el: Element) => el.name === "message" && el.getChildText("body") === text;
