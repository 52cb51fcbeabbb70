/**
 * The whole gateway (the default module list: compliance, archive, presence
 * core, SIP edge, c2s) federating with one SIP partner, partner.test (AOL
 * profile), as the SIP end-to-end tests run it: bob@corp.test logged in over
 * c2s, with his roster asked for and his presence sent.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compose, type Composition } from "../../src/gateway/modules.js";
import type { Gateway } from "../../src/gateway/gateway.js";
import { makeCredentials } from "../../src/access/c2s/credentials.js";
import type { SipEdge } from "../../src/edge/sip/edge.js";
import type { PresencePublications } from "../../src/edge/sip/publish.js";
import { login, xml, type User } from "../access/c2s/helpers.js";
import { createTestCa, type TestCa } from "./ca.js";
import { gatewayDir, startGateway } from "./gateway.js";
import type { Element } from "./xml.js";

export interface SipFederationOptions {
  /** The gateway's loopback address (SIP and c2s listen there). */
  address: string;
  c2sPort: number;
  /** The DNS server ("host:port") that resolves partner.test. */
  dnsServer: string;
  /** SIP over TCP on this port (default: any free one). */
  sipPort?: number;
  /** Policy files by name. */
  policyFiles?: Record<string, string>;
}

export interface SipFederation {
  gateway: Gateway;
  wired: Composition;
  dir: string;
  ca: TestCa;
  edge: SipEdge;
  publications: PresencePublications;
  bob: User;
  /** Everything bob received, in order (his client's list: a test may clear it). */
  got: Element[];
  close(): Promise<void>;
}

export async function startSipFederation(o: SipFederationOptions): Promise<SipFederation> {
  const dir = gatewayDir("demarc-sip-federation-");
  const ca = createTestCa(join(dir, "ca"));
  const leaf = ca.issue({ name: "corp", domains: ["corp.test"], xmppAddrs: ["corp.test"] });
  const policies = join(dir, "policies");
  mkdirSync(policies);
  for (const [name, text] of Object.entries(o.policyFiles ?? {})) writeFileSync(join(policies, name), text);
  const wired = compose();
  const { gateway } = await startGateway({
    dir,
    settings: {
      domains: ["corp.test"],
      data_dir: join(dir, "data"),
      log: { level: "silent", format: "json" },
      admin: { enabled: false },
      policy: { dir: policies, watch: false },
      tls: { dir: join(dir, "certs"), certificates: [{ cert: leaf.certPath, key: leaf.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
      dns: { servers: [o.dnsServer], timeout_ms: 500 },
      partners: [{ domain: "partner.test", protocol: "sip", profile: "aol" }],
      // A relaying proxy may reach demarc over plain TCP: the partner is then known only by the From domain.
      sip: { tcp: { enabled: true, host: o.address, port: o.sipPort ?? 0 }, trust_plain_transports: true, timers: { t1_ms: 100, t2_ms: 400 } },
      c2s: { starttls: { host: o.address, port: o.c2sPort }, direct_tls: { enabled: false } },
      s2s: { starttls: { enabled: false }, direct_tls: { enabled: false } },
    },
    modules: wired.modules,
  });
  const sip = wired.modules.find((m) => m.name === "sip") as unknown as { edge?: SipEdge; publications?: PresencePublications };
  const core = wired.core!.core!;
  await core.store.putUser({ jid: "bob@corp.test", credentials: makeCredentials("pw-bob") });
  const bob = await login({ address: o.address, caPem: ca.certPem }, "bob", { password: "pw-bob", resource: "desk", port: o.c2sPort });
  // RFC 6121 3.1.3: subscription requests go to resources that asked for the roster.
  await bob.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  await bob.send(xml("presence", {}));
  return {
    gateway,
    wired,
    dir,
    ca,
    edge: sip.edge!,
    publications: sip.publications!,
    bob,
    got: bob.received,
    async close() {
      await bob.stop();
      await gateway.close();
    },
  };
}
