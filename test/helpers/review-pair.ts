/**
 * The review set-up the quarantine API and console tests share: corp.test
 * (compliance, archive, core, s2s, c2s and the admin server in one process)
 * federating over real s2s with a second in-process demarc for partner.test,
 * a DNS server for both, a policy directory, and bob online on c2s.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminModule } from "../../src/admin/server.js";
import type { ArchiveService } from "../../src/archive/archiver.js";
import { archiveModule } from "../../src/archive/module.js";
import type { StoredRecord } from "../../src/archive/record.js";
import { s2sModule } from "../../src/edge/xmpp/module.js";
import { complianceModule } from "../../src/pipeline/module.js";
import { tlsModule } from "../../src/tls/module.js";
import { isMsg, login, startBench, xml, type Bench, type User } from "../access/c2s/helpers.js";
import { createTestCa, type TestCa } from "./ca.js";
import { startDnsServer, type DnsServerHandle } from "./dns-server.js";
import { until } from "./wait.js";
import { startTestGateway, type TestGateway } from "./xmpp-gateway.js";

export interface ReviewPairOptions {
  /** Loopback addresses of corp.test, partner.test and the DNS server. */
  corp: string;
  partner: string;
  dns: string;
  /** Off the standard ports: a system XMPP server on 0.0.0.0 would cover every loopback address. */
  s2sPort: number;
  /** The policy file corp.test loads. */
  policy: string;
  /** admin settings over { enabled, host, port: 0 } (a token, its account). */
  admin?: Record<string, unknown>;
}

export interface ReviewPair {
  dir: string;
  ca: TestCa;
  dns: DnsServerHandle;
  bench: Bench;
  partner: TestGateway;
  bob: User;
  /** The admin server's base URL. */
  base: string;
  archive: ArchiveService;
  /** Waits (bounded) until at least `min` records are in corp.test's archive database. */
  archivedCount(min: number): Promise<void>;
  /** The first archived record matching, waited for (bounded). */
  archived(match: (r: StoredRecord) => boolean): Promise<StoredRecord>;
  /**
   * A clean message from the partner to bob after the ones under test, on the same path: once bob has it,
   * anything sent to him before it has arrived too, so a check that something did not arrive can follow.
   */
  markerToBob(): Promise<void>;
  /** The same from bob to the partner, over corp.test's compliance pipeline and s2s. */
  markerToPartner(): Promise<void>;
  close(): Promise<void>;
}

export async function startReviewPair(o: ReviewPairOptions): Promise<ReviewPair> {
  const dir = mkdtempSync(join(tmpdir(), "demarc-review-"));
  const ca = createTestCa(join(dir, "ca"));
  const partnerCert = ca.issue({ name: "partner", domains: ["partner.test"] });
  const srv = (target: string) => [{ priority: 10, weight: 1, port: o.s2sPort, target }];
  const dns = await startDnsServer(o.dns, {
    a: { "corp.test": [o.corp], "partner.test": [o.partner] },
    srv: { "_xmpp-server._tcp.corp.test": srv("corp.test"), "_xmpp-server._tcp.partner.test": srv("partner.test") },
  });
  const policyDir = join(dir, "policies");
  mkdirSync(policyDir);
  writeFileSync(join(policyDir, "10-review.yaml"), o.policy);
  const federation = (host: string) => ({
    dns: { servers: [dns.server], timeout_ms: 1_000 },
    s2s: { starttls: { host, port: o.s2sPort }, direct_tls: { host, port: o.s2sPort + 1 }, connect_timeout_ms: 3_000 },
  });
  const tls = tlsModule();
  const archiveMod = archiveModule();
  const compliance = complianceModule();
  const s2s = s2sModule(tls);
  const admin = adminModule({
    console: { archive: () => archiveMod.service, desk: () => archiveMod.desk, compliance: () => compliance.pipeline, resolver: tls.resolver, partners: s2s.health },
  });
  const bench = await startBench(
    o.corp,
    {
      ...federation(o.corp),
      policy: { dir: policyDir, watch: false },
      admin: { enabled: true, host: o.corp, port: 0, ...o.admin },
      archive: { url: "sqlite:core.db", journal: { commit_delay_ms: 1 } },
      tls: { trust: { system: false, ca_files: [ca.certPath] } },
      partners: [{ domain: "partner.test" }],
    },
    { ca, modules: { before: [compliance, tls, archiveMod], after: [s2s, admin] } },
  );
  const partner = await startTestGateway({
    ...federation(o.partner),
    domains: ["partner.test"],
    tls: { dir: join(dir, "partner-certs"), certificates: [{ cert: partnerCert.certPath, key: partnerCert.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
    partners: [{ domain: "corp.test" }],
  });
  await bench.addUser("bob");
  const bob = await login(bench, "bob");
  // Available, so messages reach this device instead of offline storage.
  await bob.send(xml("presence"));
  await until(() => bench.core.presenceOf("bob@corp.test").state !== "offline", 5_000, "bob to be available");
  const archive = archiveMod.service!;
  let markers = 0;
  return {
    dir,
    ca,
    dns,
    bench,
    partner,
    bob,
    base: `http://${o.corp}:${admin.address!.port}`,
    archive,
    async archivedCount(min) {
      await until(async () => (await archive.store.count({})) >= min, 5_000, `${min} records archived`);
    },
    async archived(match) {
      return until(async () => (await archive.store.find({}, { limit: 1000 })).find(match), 5_000, "a matching archive record");
    },
    async markerToBob() {
      const body = `marker ${++markers}`;
      await partner.route({ kind: "message", from: "carl@partner.test/desk", to: "bob@corp.test", type: "chat", body });
      await bob.waitFor(isMsg(body), 10_000);
    },
    async markerToPartner() {
      const body = `marker ${++markers}`;
      await bob.send(xml("message", { to: "carl@partner.test", type: "chat" }, xml("body", {}, body)));
      await partner.sink.waitFor((e) => e.body === body);
    },
    async close() {
      await bob.stop();
      await partner.close();
      await bench.close();
      await dns.close();
    },
  };
}
