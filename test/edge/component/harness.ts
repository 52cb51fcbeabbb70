/**
 * The set-up the split-mode tests share: a `demarc` operator directory for an
 * edge (mode: edge) on its own loopback address, trusting the test CA and
 * holding a corp.test certificate from it; the Prosody lines that declare a
 * component; and archive searches through the CLI.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { baseConfig, runDemarc, type DemarcProcess } from "../../helpers/demarc.js";
import { createTestCa, type TestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { operatorDir, type Operator } from "../../e2e/operator.js";
import { loginPartnerUser, type PartnerUser } from "../../helpers/xmpp-client.js";

export const S2S_PORT = 16269;
export const ADMIN_PORT = 16280;
export const COMPONENT_PORT = 15347;

export interface EdgeSetup {
  address: string;
  ca: TestCa;
  /** "ip:port" of the tests' DNS server. */
  dns: string;
  internal: { host: string; port?: number; tls?: boolean; tls_name?: string };
  /** Settings under edge: besides internal (reconnect and wait times). */
  edge?: Record<string, unknown>;
  s2s?: Record<string, unknown>;
  policies?: Record<string, string>;
}

/** An edge's operator directory: config (secret from DEMARC_COMPONENT_SECRET), the CA, and a corp.test certificate installed. */
export async function edgeOperator(o: EdgeSetup): Promise<Operator> {
  const op = operatorDir(
    baseConfig(o.address, {
      mode: "edge",
      data_dir: "data",
      admin: { host: o.address, port: ADMIN_PORT },
      s2s: { starttls: { host: o.address, port: S2S_PORT }, direct_tls: { host: o.address, port: S2S_PORT + 1 }, ...o.s2s },
      tls: { trust: { system: false, ca_files: ["ca/ca.crt"] } },
      dns: { servers: [o.dns], timeout_ms: 1000 },
      policy: { dir: "policies", watch: false },
      partners: [{ domain: "partner-a.test", auth: ["certificate"] }],
      edge: {
        internal: [{ domains: ["corp.test"], port: COMPONENT_PORT, secret: "${DEMARC_COMPONENT_SECRET}", ...o.internal }],
        reconnect_initial_ms: 200,
        ...o.edge,
      },
    }),
    o.policies ?? {},
  );
  mkdirSync(join(op.dir, "ca"), { recursive: true });
  copyFileSync(o.ca.certPath, join(op.dir, "ca", "ca.crt"));
  const leaf = o.ca.issue({ name: "corp", domains: ["corp.test"], xmppAddrs: ["corp.test"] });
  await op.demarc(["certs", "install", leaf.certPath, leaf.keyPath]);
  return op;
}

export const startEdge = (op: Operator): DemarcProcess => runDemarc(["--config", op.configPath, "start"], { cwd: op.dir });

/** Prosody's global lines for a component listener and one component with its secret (written out, as a test does). */
export function prosodyComponent(iface: string, secret: string, domain = "partner-a.test", port = COMPONENT_PORT): string {
  return `component_ports = { ${port} }\ncomponent_interface = "${iface}"\nComponent "${domain}"\n  component_secret = "${secret}"`;
}

/** Archived message rows through `demarc archive search --json`. */
export async function archivedRows(op: Operator, args: string[]): Promise<Record<string, unknown>[]> {
  const r = await op.demarc(["archive", "search", "--json", "--limit", "1000", ...args]);
  return r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * alice on the internal server and bob on the partner's, both logged in over
 * real c2s and available, so messages reach them rather than offline storage.
 */
export async function onlinePair(o: { internal: string; peer: string; caPem: string }): Promise<[PartnerUser, PartnerUser]> {
  const pair = await Promise.all([
    loginPartnerUser({ address: o.internal, domain: "corp.test", username: "alice", password: "pw", caPem: o.caPem }),
    loginPartnerUser({ address: o.peer, domain: "partner-a.test", username: "bob", password: "pw", caPem: o.caPem }),
  ]);
  await Promise.all(pair.map((u) => u.presence()));
  return pair;
}

type Stoppable = { stop(): Promise<unknown> } | { close(): Promise<unknown> } | undefined;

/** Stops each group in turn, those within a group together: clients, then edges, then servers, then DNS. */
export async function stopInOrder(...groups: Stoppable[][]): Promise<void> {
  for (const group of groups) await Promise.all(group.map((p) => (p === undefined ? undefined : "stop" in p ? p.stop() : p.close())));
}

/** A test CA in a folder of its own, named for the test. */
export function testCa(name: string): TestCa {
  const dir = join(process.env.TMPDIR ?? "/tmp", `demarc-${name}-ca-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return createTestCa(dir);
}

/**
 * DNS for two edge nodes of corp.test behind weighted SRV (a.corp.test first,
 * b.corp.test second, as a partner sees them) and the partner's Prosody.
 */
export function twoEdgeDns(o: { dns: string; a: string; b: string; peer: string }): Promise<DnsServerHandle> {
  return startDnsServer(o.dns, {
    a: { "a.corp.test": [o.a], "b.corp.test": [o.b], "partner-a.test": [o.peer] },
    srv: {
      "_xmpp-server._tcp.corp.test": [
        { priority: 10, weight: 1, port: S2S_PORT, target: "a.corp.test" },
        { priority: 20, weight: 1, port: S2S_PORT, target: "b.corp.test" },
      ],
      "_xmpp-server._tcp.partner-a.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-a.test" }],
    },
  });
}
