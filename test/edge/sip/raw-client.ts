/**
 * A bare SIP peer on a socket for tests: writes raw bytes, reads framed
 * messages back (framed and parsed independently of the gateway's own code).
 */
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { SipMessage } from "sip";
import { SipFrames } from "../../helpers/sip-frames.js";
import { Changes } from "../../helpers/wait.js";

export class RawSip {
  readonly received: SipMessage[] = [];
  closed = false;
  private readonly changes = new Changes();
  private constructor(readonly socket: Socket) {
    const frames = new SipFrames();
    socket.on("data", (c: Buffer) => {
      this.received.push(...frames.push(c.toString("binary")));
      this.changes.notify();
    });
    const closed = () => {
      this.closed = true;
      this.changes.notify();
    };
    socket.on("close", closed);
    socket.on("error", closed);
  }

  /** Tests connect from an address of their own range, never the machine's default. */
  static async tcp(host: string, port: number, localAddress = "127.0.8.8"): Promise<RawSip> {
    const s = connect({ host, port, localAddress });
    await new Promise<void>((res, rej) => s.once("connect", res).once("error", rej));
    return new RawSip(s);
  }

  static async tls(host: string, port: number, opts: { ca: string; cert?: string; key?: string; servername: string; localAddress?: string }): Promise<RawSip> {
    const s = tlsConnect({ host, port, localAddress: "127.0.8.8", ...opts });
    await new Promise<void>((res, rej) => s.once("secureConnect", res).once("error", rej));
    return new RawSip(s);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The first matching message, taken off the received list. */
  async next(match: (m: SipMessage) => boolean = () => true, timeoutMs = 3_000): Promise<SipMessage> {
    const i = await this.changes.until(
      () => {
        const at = this.received.findIndex(match);
        return at >= 0 ? { at } : undefined;
      },
      timeoutMs,
      () => `no matching SIP message (have ${this.received.map((m) => m.status ?? m.method).join(",")})`,
    );
    return this.received.splice(i.at, 1)[0]!;
  }

  async waitClosed(timeoutMs = 3_000): Promise<boolean> {
    return this.changes.until(() => this.closed, timeoutMs, () => "still open").catch(() => false);
  }

  close(): void {
    this.socket.destroy();
  }
}

let n = 0;
/** A request as raw text (CRLF line ends, Content-Length in bytes unless given). */
export function rawRequest(o: {
  method?: string;
  uri?: string;
  from?: string;
  to?: string;
  body?: string;
  contentType?: string;
  contentLength?: number;
  omit?: string[];
  extra?: string[];
  startLine?: string;
  branch?: string;
  callId?: string;
}): string {
  const method = o.method ?? "MESSAGE";
  const uri = o.uri ?? "sip:bob@corp.test";
  const body = o.body ?? "";
  const id = ++n;
  const lines = [
    o.startLine ?? `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.8.9:5060;branch=${o.branch ?? `z9hG4bKraw${id}x${Date.now()}`}`,
    `Max-Forwards: 70`,
    `From: <${o.from ?? "sip:alice@partner.test"}>;tag=f${id}`,
    `To: <${o.to ?? uri}>`,
    `Call-ID: ${o.callId ?? `raw${id}-${Date.now()}@partner.test`}`,
    `CSeq: 1 ${method}`,
    ...(body || o.contentType ? [`Content-Type: ${o.contentType ?? "text/plain;charset=UTF-8"}`] : []),
    ...(o.extra ?? []),
    `Content-Length: ${o.contentLength ?? Buffer.byteLength(body)}`,
  ].filter((l) => !(o.omit ?? []).some((h) => l.toLowerCase().startsWith(`${h.toLowerCase()}:`)));
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}
