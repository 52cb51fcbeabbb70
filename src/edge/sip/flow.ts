/**
 * A flow is where a SIP message came from and where its responses go back
 * (RFC 3261 18.2.2: on a stream, the same connection; on UDP, the source
 * address and port, as RFC 3581 rport does). Streams are framed here and
 * stalled or broken senders are cut off.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { X509Certificate } from "node:crypto";
import type { Socket as UdpSocket } from "node:dgram";
import type { SipMessage } from "sip";
import { StreamFramer, type FramingError, type FramingLimits } from "./framing.js";
import { serialize } from "./message.js";

export type TransportName = "TLS" | "TCP" | "UDP";

export interface PeerCertificate {
  cert: X509Certificate | undefined;
  /** The chain verified against our trust anchors. */
  authorized: boolean;
  error?: string | undefined;
}

export interface Flow {
  readonly id: string;
  readonly transport: TransportName;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly local: { address: string; port: number };
  readonly peer?: PeerCertificate | undefined;
  /** The negotiated TLS version on TLS flows ("TLSv1.3"). */
  readonly tlsVersion?: string | undefined;
  /** For outbound flows: the partner domain it was opened to. */
  domain?: string | undefined;
  readonly closed: boolean;
  send(m: SipMessage): void;
  close(): void;
  /** Stop and start reading (stream flows; a datagram flow cannot be paused). */
  pause?(): void;
  resume?(): void;
}

let seq = 0;

export interface StreamHandlers {
  onMessage(m: SipMessage, flow: Flow): void;
  /** Answer what can be answered; the flow closes after when error.fatal. */
  onFramingError(error: FramingError, flow: Flow): void;
  onClose(flow: Flow): void;
}

export class StreamFlow implements Flow {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly local: { address: string; port: number };
  domain?: string | undefined;
  readonly tlsVersion: string | undefined;
  private framer: StreamFramer;
  private isClosed = false;

  constructor(
    private readonly socket: Socket | TLSSocket,
    readonly transport: "TLS" | "TCP",
    limits: FramingLimits & { idleMs: number; stallMs: number },
    handlers: StreamHandlers,
    readonly peer?: PeerCertificate,
  ) {
    this.id = `${transport.toLowerCase()}-${++seq}`;
    this.remoteAddress = socket.remoteAddress ?? "";
    this.remotePort = socket.remotePort ?? 0;
    this.local = { address: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    this.framer = new StreamFramer(limits);
    this.tlsVersion = transport === "TLS" ? ((socket as TLSSocket).getProtocol?.() ?? undefined) : undefined;
    socket.setNoDelay(true);
    let stallTimer: NodeJS.Timeout | undefined;
    socket.on("data", (chunk: Buffer) => {
      for (const r of this.framer.push(chunk.toString("binary"))) {
        if (this.isClosed) return;
        if (r.ok) handlers.onMessage(r.message, this);
        else {
          handlers.onFramingError(r.error, this);
          if (r.error.fatal) this.closeAfterFlush();
        }
      }
      // A sender that starts a message and never finishes it holds memory: bound it in time.
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = this.framer.pending > 0 ? setTimeout(() => this.close(), limits.stallMs).unref() : undefined;
    });
    socket.setTimeout(limits.idleMs, () => this.close());
    socket.on("error", () => this.close());
    socket.on("close", () => {
      if (stallTimer) clearTimeout(stallTimer);
      this.isClosed = true;
      handlers.onClose(this);
    });
    socket.on("end", () => socket.end());
  }

  get closed(): boolean {
    return this.isClosed || this.socket.destroyed;
  }

  send(m: SipMessage): void {
    if (!this.closed) this.socket.write(serialize(m), "binary");
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private closeAfterFlush(): void {
    this.isClosed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  close(): void {
    this.isClosed = true;
    this.socket.destroy();
  }
}

export class DatagramFlow implements Flow {
  readonly id: string;
  readonly transport = "UDP" as const;
  readonly closed = false;
  domain?: string | undefined;
  constructor(
    private readonly socket: UdpSocket,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly local: { address: string; port: number },
  ) {
    this.id = `udp-${remoteAddress}:${remotePort}`;
  }
  send(m: SipMessage): void {
    const data = Buffer.from(serialize(m), "binary");
    this.socket.send(data, this.remotePort, this.remoteAddress);
  }
  close(): void {}
}
