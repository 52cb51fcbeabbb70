/**
 * How questions reach a DNS server: dns2's UDP client to the configured
 * servers (trying each in turn) with our own deadline, and TCP when an answer
 * is truncated (RFC 1035 section 4.2.2; RFC 7766); or Node's resolver, which
 * follows the system configuration, when no servers are configured.
 */
import { promises as dnsp } from "node:dns";
import { connect, isIP } from "node:net";
import { randomInt } from "node:crypto";
import DNS from "dns2";
import { ConfigError, DemarcError } from "../../errors.js";

export interface Answer<T> {
  records: T[];
  ttl: number;
}

/** "IP" or "IP:PORT" or "[IPv6]:PORT". */
export function parseServer(s: string): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s);
  let host: string | undefined;
  let port: string | undefined;
  if (bracket) [host, port] = [bracket[1], bracket[2]];
  else if (isIP(s) === 6) host = s;
  else [host, port] = s.split(":");
  const n = port === undefined ? 53 : /^\d{1,5}$/.test(port) ? Number(port) : Number.NaN;
  if (!host || isIP(host) === 0 || !(n >= 1 && n <= 65535)) {
    throw new ConfigError(`DNS server "${s}" is not IP or IP:PORT (port 1-65535)`);
  }
  return { host, port: n };
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

export type Query = (name: string, type: "SRV" | "A" | "AAAA") => Promise<Answer<DNS.Packet.Resource>>;

export function dns2Query(servers: { host: string; port: number }[], timeoutMs: number): Query {
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
    throw new DemarcError("E_DNS_NO_SERVER", { type, name, reason: (lastErr as Error)?.message ?? "no servers" });
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

export function systemQuery(timeoutMs: number, servers: { host: string; port: number }[] = []): Query {
  const r = new dnsp.Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length) r.setServers(servers.map((s) => (isIP(s.host) === 6 ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`)));
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
      throw new DemarcError("E_DNS", { type, name, reason: code ?? (err as Error).message });
    }
  };
}

