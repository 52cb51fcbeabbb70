/**
 * SIP transports (RFC 3261 section 18): TLS on 5061 with mutual TLS for
 * federation (RFC 5922: the certificate is checked against the SIP domain of
 * the request), TCP and UDP on 5060. Outbound connections to partners are
 * pooled per domain and reused for requests in both directions.
 */
import { createServer as createTcpServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from "node:tls";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { SipMessage } from "sip";
import { LRUCache } from "lru-cache";
import { listen } from "../../listen.js";
import { SniContexts } from "../../tls/sni.js";
import { DemarcError } from "../../errors.js";
import { parseDatagram, type FramingError, type FramingLimits } from "./framing.js";
import { DatagramFlow, StreamFlow, type Flow, type StreamHandlers, type TransportName } from "./flow.js";

export interface TransportOptions extends FramingLimits {
  idleMs: number;
  stallMs: number;
  maxConnectionsPerAddress: number;
  connectTimeoutMs: number;
  /** The certificate to present for a requested server name. */
  certFor: (servername: string) => { cert: string; key: string };
  /** Our own certificate, for TLS servers without SNI and as the client certificate. */
  defaultContext: () => { cert: string; key: string };
  ca: () => string[];
  minVersion: "TLSv1.2" | "TLSv1.3";
}

export interface TransportHandlers {
  onMessage(m: SipMessage, flow: Flow): void;
  onFramingError(error: FramingError, flow: Flow): void;
  onClose?(flow: Flow): void;
}

export class SipTransports {
  private servers: Server[] = [];
  private udp: UdpSocket | undefined;
  private udpLocal = { address: "", port: 0 };
  private readonly flows = new Set<StreamFlow>();
  private readonly perAddress = new Map<string, number>();
  /**
   * Inbound UDP flows by source address and port. One flow per source gives
   * a source's MESSAGEs one router lane, so they are delivered in the order
   * they arrived (as on a connection); bounded in count and idle time because
   * any address can send a datagram.
   */
  private readonly datagramFlows = new LRUCache<string, DatagramFlow>({ max: 10_000, ttl: 5 * 60_000, updateAgeOnGet: true });
  /** Outbound flows to partner domains, keyed "domain|transport". */
  private readonly pool = new Map<string, Flow>();

  /** Per-certificate server contexts that carry our trust anchors, so client certificates verify under SNI too. */
  private readonly sni: SniContexts;

  constructor(private readonly opts: TransportOptions, private readonly handlers: TransportHandlers) {
    this.sni = new SniContexts({ certFor: opts.certFor, ca: opts.ca, minVersion: opts.minVersion });
  }

  /** After a reload: certificates or trust anchors may have changed. */
  refreshTls(): void {
    this.sni.clear();
  }

  private streamHandlers(): StreamHandlers {
    return {
      onMessage: (m, f) => this.handlers.onMessage(m, f),
      onFramingError: (e, f) => this.handlers.onFramingError(e, f),
      onClose: (f) => {
        this.flows.delete(f as StreamFlow);
        const n = (this.perAddress.get(f.remoteAddress) ?? 1) - 1;
        if (n <= 0) this.perAddress.delete(f.remoteAddress);
        else this.perAddress.set(f.remoteAddress, n);
        for (const [k, v] of this.pool) if (v === f) this.pool.delete(k);
        this.handlers.onClose?.(f);
      },
    };
  }

  private admitConnection(socket: Socket): boolean {
    const addr = socket.remoteAddress ?? "";
    const n = this.perAddress.get(addr) ?? 0;
    if (n >= this.opts.maxConnectionsPerAddress) {
      socket.destroy();
      return false;
    }
    this.perAddress.set(addr, n + 1);
    return true;
  }

  private track(flow: StreamFlow): StreamFlow {
    this.flows.add(flow);
    return flow;
  }

  async listenTcp(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createTcpServer((socket) => {
      if (this.admitConnection(socket)) this.track(new StreamFlow(socket, "TCP", this.opts, this.streamHandlers()));
    });
    this.servers.push(server);
    return listen(server, host, port, "SIP TCP listener");
  }

  async listenTls(host: string, port: number): Promise<{ host: string; port: number }> {
    const def = this.opts.defaultContext();
    const server = createTlsServer({
      cert: def.cert,
      key: def.key,
      SNICallback: this.sni.callback,
      minVersion: this.opts.minVersion,
      // Federation is mutual TLS; the chain and name are judged per request, so a
      // missing or unknown certificate gets a SIP 403 rather than a failed handshake.
      requestCert: true,
      rejectUnauthorized: false,
      ca: this.opts.ca(),
    });
    server.on("secureConnection", (socket: TLSSocket) => {
      if (!this.admitConnection(socket)) return;
      const raw = socket.getPeerX509Certificate();
      const peer = { cert: raw, authorized: socket.authorized, error: socket.authorizationError ? String(socket.authorizationError) : undefined };
      this.track(new StreamFlow(socket, "TLS", this.opts, this.streamHandlers(), peer));
    });
    server.on("tlsClientError", () => {});
    this.servers.push(server);
    return listen(server, host, port, "SIP TLS listener");
  }

  async listenUdp(host: string, port: number): Promise<{ host: string; port: number }> {
    const sock = createSocket({ type: isIPv6(host) ? "udp6" : "udp4" });
    this.udp = sock;
    sock.on("message", (data, rinfo) => {
      const source = `${rinfo.address}|${rinfo.port}`;
      let flow = this.datagramFlows.get(source);
      if (!flow) {
        flow = new DatagramFlow(sock, rinfo.address, rinfo.port, this.udpLocal);
        this.datagramFlows.set(source, flow);
      }
      const r = parseDatagram(data.toString("binary"), this.opts);
      if (r.ok) this.handlers.onMessage(r.message, flow);
      else this.handlers.onFramingError(r.error, flow);
    });
    sock.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      sock.once("error", (err: NodeJS.ErrnoException) => reject(new DemarcError("E_LISTEN", { listener: "SIP UDP listener", address: `${host}:${port}`, problem: `cannot be bound (${err.code ?? err.message})` })));
      sock.bind(port, host, () => resolve());
    });
    const a = sock.address();
    this.udpLocal = { address: a.address, port: a.port };
    return { host: a.address, port: a.port };
  }

  /** An open flow to a partner domain over a transport, if one exists. */
  pooled(domain: string, transport: TransportName): Flow | undefined {
    const f = this.pool.get(`${domain}|${transport}`);
    return f && !f.closed ? f : undefined;
  }

  /**
   * Opens a flow to a partner address. For TLS, servername is the SIP domain
   * and verify() decides on the certificate (RFC 5922 section 7.2).
   */
  async connect(
    domain: string,
    transport: TransportName,
    address: string,
    port: number,
    verify: (socket: TLSSocket) => string | undefined,
    localAddress?: string,
  ): Promise<Flow> {
    const existing = this.pooled(domain, transport);
    if (existing) return existing;
    if (transport === "UDP") {
      if (!this.udp) throw new DemarcError("E_SIP_UDP", {});
      const f = new DatagramFlow(this.udp, address, port, this.udpLocal);
      f.domain = domain;
      this.pool.set(`${domain}|UDP`, f);
      return f;
    }
    const socket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${address}:${port} timed out`));
      }, this.opts.connectTimeoutMs);
      const def = this.opts.defaultContext();
      const s =
        transport === "TLS"
          ? tlsConnect({ host: address, port, ...(localAddress ? { localAddress } : {}), servername: domain, ca: this.opts.ca(), cert: def.cert, key: def.key, minVersion: this.opts.minVersion, rejectUnauthorized: false }, () => {
              clearTimeout(timer);
              const problem = verify(s as TLSSocket);
              if (problem) {
                s.destroy();
                reject(new Error(problem));
              } else resolve(s);
            })
          : tcpConnect({ host: address, port, ...(localAddress ? { localAddress } : {}) }, () => {
              clearTimeout(timer);
              resolve(s);
            });
      s.once("error", (err) => {
        clearTimeout(timer);
        onError(err);
      });
    });
    this.perAddress.set(socket.remoteAddress ?? address, (this.perAddress.get(socket.remoteAddress ?? address) ?? 0) + 1);
    const flow = this.track(new StreamFlow(socket, transport, this.opts, this.streamHandlers()));
    flow.domain = domain;
    this.pool.set(`${domain}|${transport}`, flow);
    return flow;
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.close();
    for (const f of this.flows) f.close();
    this.flows.clear();
    this.pool.clear();
    this.udp?.close();
    this.udp = undefined;
    this.datagramFlows.clear();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
    this.servers = [];
  }
}
