/**
 * SRV and address lookups for outbound federation.
 *
 * - RFC 2782: SRV targets ordered by priority (lowest first), and within a
 *   priority by weighted random selection; a single record with target "."
 *   means the service is decidedly not available at this domain.
 * - RFC 6120 section 3.2 / XEP-0368: the caller lists the services to try
 *   (e.g. "_xmpps-server._tcp" before "_xmpp-server._tcp"); when no SRV record
 *   exists at all, the domain itself is tried on the fallback port.
 *
 * Queries go to the configured servers with dns2 (UDP, TCP on truncation)
 * under our own deadline, because dns2's resolver ignores its timeout; with no
 * servers configured the system resolver is used.
 */
import { promises as dnsp } from "node:dns";
import { connect, isIP } from "node:net";
import { randomInt } from "node:crypto";
import DNS from "dns2";
import { UnavailableError } from "../../errors.js";

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface Resolver {
  /** [] when the name has no SRV records (NXDOMAIN or NODATA). */
  srv(name: string): Promise<SrvRecord[]>;
  /** IPv6 and IPv4 addresses; [] when none. */
  addresses(host: string): Promise<string[]>;
}

export interface Candidate {
  host: string;
  address: string;
  port: number;
  /** The SRV service that produced it ("_xmpp-server._tcp"), or "fallback". */
  service: string;
}

export interface ResolverOptions {
  servers: string[];
  timeoutMs: number;
  /** Bounds on how long answers are cached, in seconds. */
  minTtlS?: number;
  maxTtlS?: number;
  /** How long a name that does not exist is remembered. */
  negativeTtlS?: number;
  now?: () => number;
}

interface Answer<T> {
  records: T[];
  ttl: number;
}

/** "IP" or "IP:PORT" or "[IPv6]:PORT". */
export function parseServer(s: string): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) return { host: bracket[1]!, port: Number(bracket[2] ?? 53) };
  if (isIP(s) === 6) return { host: s, port: 53 };
  const [host, port] = s.split(":");
  if (!host || isIP(host) === 0 || (port !== undefined && !/^\d{1,5}$/.test(port))) {
    throw new UnavailableError("E_DNS_SERVER", `DNS server "${s}" is not IP or IP:PORT`);
  }
  return { host, port: port === undefined ? 53 : Number(port) };
}

const NXDOMAIN = 3;
const NOERROR = 0;

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`DNS query for ${what} timed out after ${ms} ms`), { code: "ETIMEDOUT" })), ms);
    timer.unref();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

type Query = (name: string, type: "SRV" | "A" | "AAAA") => Promise<Answer<DNS.Packet.Resource>>;

function dns2Query(servers: { host: string; port: number }[], timeoutMs: number): Query {
  return async (name, type) => {
    let lastErr: unknown;
    for (const s of servers) {
      // dns2's own TCP retry has no timeout: retry truncated answers over TCP here, under our deadline.
      const client = DNS.UDPClient({ dns: s.host, port: s.port, timeout: timeoutMs, retryOverTCP: false, socketType: isIP(s.host) === 6 ? "udp6" : "udp4" });
      try {
        let res = await withDeadline(client(name, type), timeoutMs, `${type} ${name}`);
        if (res.header.tc) res = await tcpQuery(s.host, s.port, name, type, timeoutMs);
        const rcode = res.header.rcode;
        if (rcode === NXDOMAIN) return { records: [], ttl: -1 };
        if (rcode !== NOERROR) throw new Error(`DNS server ${s.host}:${s.port} answered rcode ${rcode} for ${type} ${name}`);
        const want = DNS.Packet.TYPE[type];
        const records = res.answers.filter((a) => a.type === want);
        const ttl = records.length ? Math.min(...records.map((r) => r.ttl)) : -1;
        return { records, ttl };
      } catch (err) {
        lastErr = err;
      }
    }
    throw new UnavailableError("E_DNS", `no DNS server answered for ${type} ${name}: ${(lastErr as Error)?.message ?? "no servers"}`);
  };
}

/** RFC 1035 section 4.2.2: a two-octet length, then the message; one query per connection. */
function tcpQuery(host: string, port: number, name: string, type: "SRV" | "A" | "AAAA", timeoutMs: number): Promise<DNS.Packet> {
  const query = new DNS.Packet();
  query.header.id = randomInt(0x10000);
  query.header.rd = 1;
  query.questions.push({ name, type: DNS.Packet.TYPE[type], class: DNS.Packet.CLASS.IN } as DNS.Packet.Question);
  const body = query.toBuffer();
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(Object.assign(new Error(`DNS query for ${type} ${name} over TCP timed out after ${timeoutMs} ms`), { code: "ETIMEDOUT" })), timeoutMs);
    const finish = (err: Error | undefined, res?: DNS.Packet) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    sock.on("connect", () => sock.write(Buffer.concat([len, body])));
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > 70_000) return finish(new Error(`oversized DNS answer from ${host}:${port}`));
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        try {
          const res = DNS.Packet.parse(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          if (res.header.id !== query.header.id) return finish(new Error(`mismatched DNS answer id from ${host}:${port}`));
          finish(undefined, res);
        } catch (err) {
          finish(err as Error);
        }
      }
    });
    sock.on("error", (err) => finish(err));
    sock.on("end", () => finish(new Error(`DNS server ${host}:${port} closed the TCP connection without an answer`)));
  });
}

function systemQuery(timeoutMs: number): Query {
  const r = new dnsp.Resolver({ timeout: timeoutMs, tries: 2 });
  return async (name, type) => {
    try {
      if (type === "SRV") {
        const recs = await r.resolveSrv(name);
        return { records: recs.map((x) => ({ type: 33, class: 1, ttl: 300, priority: x.priority, weight: x.weight, port: x.port, target: x.name, name }) as unknown as DNS.Packet.Resource), ttl: 300 };
      }
      const recs = type === "A" ? await r.resolve4(name, { ttl: true }) : await r.resolve6(name, { ttl: true });
      return { records: recs.map((x) => ({ name, type: type === "A" ? 1 : 28, class: 1, ttl: x.ttl, address: x.address }) as unknown as DNS.Packet.Resource), ttl: Math.min(...recs.map((x) => x.ttl)) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOTFOUND" || code === "ENODATA") return { records: [], ttl: -1 };
      throw new UnavailableError("E_DNS", `DNS lookup of ${type} ${name} failed: ${code ?? (err as Error).message}`);
    }
  };
}

export function createResolver(opts: ResolverOptions): Resolver {
  const query = opts.servers.length ? dns2Query(opts.servers.map(parseServer), opts.timeoutMs) : systemQuery(opts.timeoutMs);
  return new CachingResolver(query, opts);
}

class CachingResolver implements Resolver {
  private readonly cache = new Map<string, { expires: number; value: unknown }>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  private readonly minTtl: number;
  private readonly maxTtl: number;
  private readonly negTtl: number;
  private static readonly MAX_ENTRIES = 10_000;

  constructor(private readonly query: Query, opts: ResolverOptions) {
    this.now = opts.now ?? Date.now;
    this.minTtl = opts.minTtlS ?? 5;
    this.maxTtl = opts.maxTtlS ?? 3600;
    this.negTtl = opts.negativeTtlS ?? 60;
  }

  srv(name: string): Promise<SrvRecord[]> {
    return this.cached(`SRV ${name.toLowerCase()}`, async () => {
      const a = await this.query(name, "SRV");
      const records = a.records.map((r) => ({ name: (r.target ?? "").replace(/\.$/, "") || ".", port: r.port ?? 0, priority: r.priority ?? 0, weight: r.weight ?? 0 }));
      return { value: records, ttl: a.ttl };
    });
  }

  addresses(host: string): Promise<string[]> {
    if (isIP(host)) return Promise.resolve([host]);
    return this.cached(`ADDR ${host.toLowerCase()}`, async () => {
      const [v6, v4] = await Promise.all([this.query(host, "AAAA"), this.query(host, "A")]);
      const all = [...v6.records, ...v4.records].map((r) => r.address).filter((a): a is string => !!a);
      const ttls = [v6.ttl, v4.ttl].filter((t) => t >= 0);
      return { value: all, ttl: ttls.length ? Math.min(...ttls) : -1 };
    });
  }

  private async cached<T>(key: string, load: () => Promise<{ value: T; ttl: number }>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.value as T;
    const pending = this.inflight.get(key);
    if (pending) return pending as Promise<T>;
    const p = load()
      .then(({ value, ttl }) => {
        const seconds = ttl < 0 ? this.negTtl : Math.min(this.maxTtl, Math.max(this.minTtl, ttl));
        if (this.cache.size >= CachingResolver.MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, { expires: this.now() + seconds * 1000, value });
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}

/** RFC 2782 ordering: priority ascending; within one, weighted random (weight 0 first in the running sum). */
export function orderSrv(records: SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: SrvRecord[] = [];
  for (const prio of [...byPriority.keys()].sort((a, b) => a - b)) {
    // "arrange all SRV RRs (that have not been ordered yet) in any order, except that all those with weight 0 are placed at the beginning"
    const pool = [...byPriority.get(prio)!].sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (pool.length) {
      const total = pool.reduce((s, r) => s + r.weight, 0);
      const pick = Math.floor(random() * (total + 1));
      let sum = 0;
      let idx = pool.findIndex((r) => (sum += r.weight) >= pick);
      if (idx < 0) idx = pool.length - 1;
      out.push(pool.splice(idx, 1)[0]!);
    }
  }
  return out;
}

/** Thrown when the domain publishes "." for every service asked: it does not offer it. */
export class ServiceNotAvailableError extends UnavailableError {
  constructor(domain: string, services: string[]) {
    super("E_SRV_DECLINED", `${domain} publishes "." for ${services.join(", ")}: the service is decidedly not available`);
  }
}

export async function discover(resolver: Resolver, domain: string, services: string[], fallbackPort: number): Promise<Candidate[]> {
  const out: Candidate[] = [];
  let anySrv = false;
  let declined = 0;
  for (const service of services) {
    const records = await resolver.srv(`${service}.${domain}`);
    if (records.length === 0) continue;
    anySrv = true;
    // RFC 2782: a single "." target means decidedly not available (for this service).
    if (records.length === 1 && records[0]!.name === ".") {
      declined++;
      continue;
    }
    for (const r of orderSrv(records.filter((x) => x.name !== "."))) {
      for (const address of await resolver.addresses(r.name)) out.push({ host: r.name, address, port: r.port, service });
    }
  }
  if (!anySrv) {
    for (const address of await resolver.addresses(domain)) out.push({ host: domain, address, port: fallbackPort, service: "fallback" });
  } else if (declined === services.length) {
    throw new ServiceNotAvailableError(domain, services);
  }
  return out;
}
