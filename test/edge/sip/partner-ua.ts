/**
 * A partner's SIP user agent for end-to-end tests: listens for demarc's
 * requests (answering MESSAGE, NOTIFY and SUBSCRIBE as a SIMPLE presence
 * server would) and sends its own requests on a connection of its own.
 * Every message seen is kept for assertions.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import sip, { type SipMessage } from "sip";
import { SipFrames } from "../../helpers/sip-frames.js";
import { Changes } from "../../helpers/wait.js";

const tag = () => randomBytes(4).toString("hex");
const bin = (s: string) => Buffer.from(s, "utf8").toString("binary");
export const utf8 = (s: string | undefined) => Buffer.from(s ?? "", "binary").toString("utf8");

export class PartnerUa {
  private readonly changes = new Changes();
  readonly requests: SipMessage[] = [];
  readonly responses: SipMessage[] = [];
  private server!: Server;
  private sockets = new Set<Socket>();
  private out: Socket | undefined;
  private readonly dialogTags = new Map<string, string>();
  /** Presence this partner's user shows to watchers (PIDF), sent after a SUBSCRIBE from demarc. */
  pidf: string | undefined;
  /** How this UA answers SUBSCRIBE: status and the Expires it grants. */
  subscribeAnswer = { status: 200, reason: "OK", expires: 600 };
  port = 0;

  constructor(readonly host: string, readonly user: string, readonly domain: string) {}

  async start(): Promise<void> {
    this.server = createServer((s) => this.attach(s));
    await new Promise<void>((r) => this.server.listen(0, this.host, () => r()));
    this.port = (this.server.address() as { port: number }).port;
  }

  private attach(s: Socket): void {
    this.sockets.add(s);
    const frames = new SipFrames();
    s.on("data", (c: Buffer) => {
      for (const m of frames.push(c.toString("binary"))) this.onMessage(m, s);
      this.changes.notify();
    });
    s.on("error", () => undefined);
    s.on("close", () => this.sockets.delete(s));
  }

  private onMessage(m: SipMessage, s: Socket): void {
    if (m.status) {
      this.responses.push(m);
      return;
    }
    this.requests.push(m);
    const sub = m.method === "SUBSCRIBE";
    const rs = sub ? sip.makeResponse(m, this.subscribeAnswer.status, this.subscribeAnswer.reason) : sip.makeResponse(m, 200, "OK");
    const toTag = m.headers.to!.params.tag ?? this.dialogTags.get(m.headers["call-id"]!) ?? tag();
    this.dialogTags.set(m.headers["call-id"]!, toTag);
    rs.headers.to = { ...m.headers.to!, params: { ...m.headers.to!.params, tag: toTag } };
    if (sub && this.subscribeAnswer.status >= 300) {
      s.write(sip.stringify(rs), "binary");
      return;
    }
    if (sub) {
      rs.headers.expires = String(this.subscribeAnswer.expires);
      rs.headers.contact = [{ uri: `sip:${this.user}@${this.host}:${this.port};transport=tcp`, params: {} }];
    }
    s.write(sip.stringify(rs), "binary");
    if (sub && this.pidf && !m.headers.to!.params.tag) {
      // RFC 6665: the notifier sends NOTIFY at once, on the connection the SUBSCRIBE came on.
      const notify: SipMessage = {
        method: "NOTIFY",
        uri: m.headers.contact && Array.isArray(m.headers.contact) ? m.headers.contact[0]!.uri : m.headers.from!.uri,
        version: "2.0",
        headers: {
          via: [{ version: "2.0", protocol: "TCP", host: this.host, port: this.port, params: { branch: `z9hG4bK${tag()}` } }],
          from: rs.headers.to,
          to: m.headers.from!,
          "call-id": m.headers["call-id"]!,
          cseq: { seq: 1, method: "NOTIFY" },
          "max-forwards": "70",
          event: "presence",
          "subscription-state": "active;expires=600",
          "content-type": "application/pidf+xml",
        },
        content: bin(this.pidf),
      };
      s.write(sip.stringify(notify), "binary");
    }
  }

  /** Sends a NOTIFY in the dialog a SUBSCRIBE from demarc set up, on the connection it came on. */
  notifyIn(subscribe: SipMessage, state: string, body?: string): void {
    const s = [...this.sockets].find((x) => !x.destroyed && x !== this.out);
    if (!s) throw new Error("no connection from demarc");
    const m: SipMessage = {
      method: "NOTIFY",
      uri: Array.isArray(subscribe.headers.contact) ? subscribe.headers.contact[0]!.uri : subscribe.headers.from!.uri,
      version: "2.0",
      headers: {
        via: [{ version: "2.0", protocol: "TCP", host: this.host, port: this.port, params: { branch: `z9hG4bK${tag()}` } }],
        from: { ...subscribe.headers.to!, params: { tag: this.dialogTags.get(subscribe.headers["call-id"]!)! } },
        to: subscribe.headers.from!,
        "call-id": subscribe.headers["call-id"]!,
        cseq: { seq: 10 + this.requests.length, method: "NOTIFY" },
        "max-forwards": "70",
        event: "presence",
        "subscription-state": state,
        ...(body ? { "content-type": "application/pidf+xml" } : {}),
      },
      content: body ? bin(body) : "",
    };
    s.write(sip.stringify(m), "binary");
  }

  /** Sends a request to demarc on this UA's own connection. */
  async send(target: { host: string; port: number }, o: { method: string; to: string; body?: string; contentType?: string; headers?: Record<string, string> }): Promise<void> {
    if (!this.out || this.out.destroyed) {
      const s = connect({ host: target.host, port: target.port, localAddress: this.host });
      await new Promise<void>((r, j) => s.once("connect", r).once("error", j));
      this.attach(s);
      this.out = s;
    }
    const m: SipMessage = {
      method: o.method,
      uri: o.to,
      version: "2.0",
      headers: {
        via: [{ version: "2.0", protocol: "TCP", host: this.host, port: this.port, params: { branch: `z9hG4bK${tag()}` } }],
        from: { uri: `sip:${this.user}@${this.domain}`, params: { tag: tag() } },
        to: { uri: o.to, params: {} },
        "call-id": `${tag()}@${this.domain}`,
        cseq: { seq: 1, method: o.method },
        "max-forwards": "70",
        contact: [{ uri: `sip:${this.user}@${this.host}:${this.port};transport=tcp`, params: {} }],
        ...(o.headers ?? {}),
        ...(o.body !== undefined ? { "content-type": o.contentType ?? "text/plain;charset=UTF-8" } : {}),
      },
      content: o.body !== undefined ? bin(o.body) : "",
    };
    this.out.write(sip.stringify(m), "binary");
  }

  async waitFor<T extends SipMessage>(list: "requests" | "responses", match: (m: SipMessage) => boolean, timeoutMs = 5_000): Promise<T> {
    const hit = await this.changes.until(() => this[list].find(match), timeoutMs, () => `partner UA: no matching ${list} (have ${this[list].map((m) => m.method ?? m.status).join(",")})`);
    return hit as T;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
