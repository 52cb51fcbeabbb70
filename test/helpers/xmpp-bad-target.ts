/**
 * A partner target that accepts TCP and then fails the s2s stream in one
 * scripted way, for failover tests: "stall" trickles its stream header a
 * byte at a time and never finishes it (slowloris); "stream-error" answers
 * the header with host-unknown; "refuse-starttls" offers STARTTLS and then
 * fails it; "refuse-auth" speaks STARTTLS (or direct TLS) with the
 * certificate it is given, offers SASL EXTERNAL and dialback, and refuses
 * both. It counts open connections so a test can check that the gateway
 * dropped them.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { NS_HEADER } from "./xmpp-raw.js";

export interface BadTargetOptions {
  host: string;
  /** The partner domain it claims to serve. */
  domain: string;
  behaviour: "stall" | "stream-error" | "refuse-starttls" | "refuse-auth";
  cert?: string;
  key?: string;
  /** XEP-0368: TLS from the first byte, no STARTTLS. */
  directTls?: boolean;
}

export interface BadTarget {
  host: string;
  port: number;
  /** Connections accepted so far, and how many are still open. */
  accepted: number;
  open: number;
  /** Everything the gateway sent, all connections, after TLS where there was TLS. */
  received: string;
  waitAllClosed(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const TOKENS: [RegExp, string][] = [
  [/<stream:stream\b[^>]*>/, "header"],
  [/<starttls\b[^>]*\/>/, "starttls"],
  [/<auth\b[^>]*(?:\/>|>[^<]*<\/auth>)/, "auth"],
  [/<db:result\b[^>]*>[^<]*<\/db:result>/, "result"],
];

export async function startBadTarget(o: BadTargetOptions): Promise<BadTarget> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const tlsOpts = { cert: o.cert, key: o.key, ALPNProtocols: ["xmpp-server"] };
  // Never listens: the STARTTLS upgrade hands it the plain socket, as the gateway's own acceptor does.
  const upgrader = createTlsServer(tlsOpts, (s) => speak(s, true));
  upgrader.on("tlsClientError", () => undefined);
  const t: BadTarget = {
    host: o.host,
    port: 0,
    accepted: 0,
    open: 0,
    received: "",
    async waitAllClosed(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (t.open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (t.open > 0) throw new Error(`${t.open} connection(s) to ${o.host}:${t.port} still open after ${timeoutMs} ms`);
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };

  const header = (id: string) => `<?xml version='1.0'?><stream:stream ${NS_HEADER} version='1.0' from='${o.domain}' id='${id}'>`;

  function stall(s: Socket): void {
    const bytes = header("tarpit");
    let i = 0;
    const timer = setInterval(() => (i < bytes.length ? s.write(bytes[i++]!) : clearInterval(timer)), 100);
    timers.add(timer);
    s.once("close", () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  }

  function speak(s: Socket | TLSSocket, secure: boolean): void {
    let buf = "";
    const onData = (c: Buffer) => {
      buf += c.toString("utf8");
      t.received += c.toString("utf8");
      for (;;) {
        const hits = TOKENS.map(([re, kind]) => ({ kind, m: re.exec(buf) })).filter((h) => h.m);
        const first = hits.sort((a, b) => a.m!.index - b.m!.index)[0];
        if (!first) return;
        buf = buf.slice(first.m!.index + first.m![0].length);
        if (first.kind === "header" && o.behaviour === "stream-error") {
          s.end(`${header("refused")}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`);
          return;
        } else if (first.kind === "header") {
          const features = secure
            ? "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</mechanism></mechanisms><dialback xmlns='urn:xmpp:features:dialback'/>"
            : "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>";
          s.write(`${header(`s${t.accepted}`)}<stream:features>${features}</stream:features>`);
        } else if (first.kind === "starttls" && o.behaviour === "refuse-starttls") {
          s.end("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
          return;
        } else if (first.kind === "starttls") {
          s.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
          s.off("data", onData);
          upgrader.emit("connection", s);
          return;
        } else if (first.kind === "auth") {
          s.write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
        } else {
          s.write(`<db:result from='${o.domain}' type='invalid'/>`);
        }
      }
    };
    s.on("data", onData);
  }

  const accept = (s: Socket, secure: boolean) => {
    t.accepted++;
    t.open++;
    sockets.add(s);
    s.on("error", () => undefined);
    s.once("close", () => {
      t.open--;
      sockets.delete(s);
    });
    if (o.behaviour === "stall") stall(s);
    else speak(s, secure);
  };
  const server: Server = o.directTls ? createTlsServer(tlsOpts, (s) => accept(s, true)) : createServer((s) => accept(s, false));
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, o.host, () => resolve());
  });
  t.port = (server.address() as AddressInfo).port;
  return t;
}
