/**
 * An authoritative-looking DNS server on a loopback address, serving a zone
 * the test writes (dns2, UDP and TCP on the same port). Unknown names get
 * NXDOMAIN; a known name without records of the asked type gets an empty answer.
 */
import { Socket, createServer, type AddressInfo } from "node:net";
import DNS from "dns2";

export interface SrvTarget {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface Zone {
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  srv?: Record<string, SrvTarget[]>;
  /** Names whose UDP answers come back empty with TC set, so clients must retry over TCP. */
  truncateUdp?: string[];
}

export interface DnsServerHandle {
  address: string;
  port: number;
  /** "IP:PORT", ready for config dns.servers and --server. */
  server: string;
  setZone(z: Zone): void;
  /** Questions seen, "TYPE name", for tests that count cache hits. */
  queries: string[];
  close(): Promise<void>;
}

function freeTcpPort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, address, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const key = (n: string) => n.toLowerCase().replace(/\.$/, "");

export async function startDnsServer(address: string, zone: Zone): Promise<DnsServerHandle> {
  let current = zone;
  const queries: string[] = [];
  const { Packet } = DNS;
  const make = () => DNS.createServer({
    udp: true,
    tcp: true,
    handle: (request, send, client) => {
      const response = Packet.createResponseFromRequest(request);
      // Recursion available: stub resolvers such as libunbound (Prosody) treat a
      // forwarder without RA as lame and answer NXDOMAIN for names it serves.
      response.header.ra = 1;
      const q = request.questions[0];
      if (!q) {
        void send(response);
        return;
      }
      const name = key(q.name);
      const typeName = Object.entries(Packet.TYPE).find(([, v]) => v === q.type)?.[0] ?? String(q.type);
      if (queries.length < 10_000) queries.push(`${typeName} ${name}`);
      const known = [current.a, current.aaaa, current.srv].some((t) => t && Object.keys(t).some((k) => key(k) === name));
      if (!known) {
        response.header.rcode = 3;
        void send(response);
        return;
      }
      const find = <T>(t: Record<string, T[]> | undefined): T[] => Object.entries(t ?? {}).find(([k]) => key(k) === name)?.[1] ?? [];
      if (q.type === Packet.TYPE.A) {
        for (const address of find(current.a)) response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address } as DNS.Packet.Resource);
      } else if (q.type === Packet.TYPE.AAAA) {
        for (const address of find(current.aaaa)) response.answers.push({ name: q.name, type: Packet.TYPE.AAAA, class: Packet.CLASS.IN, ttl: 60, address } as DNS.Packet.Resource);
      } else if (q.type === Packet.TYPE.SRV) {
        for (const s of find(current.srv)) {
          response.answers.push({ name: q.name, type: Packet.TYPE.SRV, class: Packet.CLASS.IN, ttl: 60, ...s } as DNS.Packet.Resource);
        }
      }
      if (!(client instanceof Socket) && (current.truncateUdp ?? []).some((n) => key(n) === name)) {
        response.answers = [];
        response.header.tc = 1;
      }
      void send(response);
    },
  });
  // One port for UDP and TCP, as real DNS servers have (clients retry truncated answers over TCP).
  let port = 0;
  let server = make();
  for (let attempt = 0; attempt < 5 && port === 0; attempt++) {
    const candidate = await freeTcpPort(address);
    if (attempt > 0) server = make();
    const failed = new Promise<Error>((res) => server.once("error", res));
    const outcome = await Promise.race([server.listen({ udp: { port: candidate, address }, tcp: { port: candidate, host: address } } as never).then(() => undefined), failed]);
    if (outcome === undefined) port = candidate;
    else await server.close().catch(() => undefined);
  }
  if (port === 0) throw new Error(`could not start the test DNS server on ${address}`);
  return {
    address,
    port,
    server: `${address}:${port}`,
    queries,
    setZone(z) {
      current = z;
    },
    close: () => server.close(),
  };
}
