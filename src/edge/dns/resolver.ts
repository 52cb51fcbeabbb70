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
import { isIP } from "node:net";
import { DemarcError } from "../../errors.js";
import { dns2Query, parseServer, systemQuery, type Query } from "./transport.js";

export { parseServer };

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
  /** dns2 (default with servers) or Node's c-ares resolver (always without servers). */
  transport?: "dns2" | "node";
}

export function createResolver(opts: ResolverOptions): Resolver {
  const servers = opts.servers.map(parseServer);
  const query = servers.length && opts.transport !== "node" ? dns2Query(servers, opts.timeoutMs) : systemQuery(opts.timeoutMs, servers);
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
        const seconds = Math.min(this.maxTtl, ttl < 0 ? this.negTtl : Math.max(this.minTtl, ttl));
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
export class ServiceNotAvailableError extends DemarcError<"E_SRV_DECLINED"> {
  constructor(domain: string, services: string[]) {
    super("E_SRV_DECLINED", { domain, services: services.join(", ") });
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
