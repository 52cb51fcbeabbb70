/**
 * A scripted XEP-0114 server on loopback port 0 for component-link tests: it
 * accepts component streams, checks the handshake against its secret, records
 * what it receives, and can write raw bytes or drop connections.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { XmppStreamParser, componentHeader, handshakeMatches, newStreamId, type Element } from "../../src/xmpp/index.js";

export interface ComponentServer {
  port: number;
  host: string;
  /** Connection attempts seen, with the time each began. */
  attempts: number[];
  received: Element[];
  /** Pings (XEP-0199) to the server are answered and counted, not recorded in received, while this is true. */
  answerPings: boolean;
  pings: number;
  /** Writes raw bytes on every authenticated connection. */
  writeRaw(data: Buffer | string): void;
  dropAll(): void;
  waitFor<T>(probe: () => T | undefined, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startComponentServer(secret: string, host = "127.0.0.1"): Promise<ComponentServer> {
  const attempts: number[] = [];
  const received: Element[] = [];
  const sockets = new Set<Socket>();
  const online = new Set<Socket>();
  const handle = { answerPings: true, pings: 0 };
  const server: Server = createServer((socket) => {
    attempts.push(Date.now());
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      online.delete(socket);
    });
    socket.on("error", () => undefined);
    const id = newStreamId();
    const parser = new XmppStreamParser();
    socket.on("data", (c: Buffer) => parser.write(c));
    parser.on("streamStart", (attrs) => socket.write(componentHeader({ from: attrs.to ?? "", id })));
    parser.on("stanza", (el) => {
      if (!online.has(socket)) {
        if (el.name === "handshake" && handshakeMatches(el.getText(), id, secret)) {
          online.add(socket);
          return void socket.write("<handshake/>");
        }
        return void socket.end("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>");
      }
      if (handle.answerPings && el.name === "iq" && el.attrs.type === "get" && el.getChild("ping", "urn:xmpp:ping")) {
        handle.pings++;
        return void socket.write(`<iq type='result' id='${el.attrs.id}' from='${el.attrs.to}' to='${el.attrs.from}'/>`);
      }
      received.push(el);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  const api: Omit<ComponentServer, "answerPings" | "pings"> = {
    port,
    host,
    attempts,
    received,
    writeRaw: (data) => online.forEach((s) => s.write(data)),
    dropAll: () => sockets.forEach((s) => s.destroy()),
    async waitFor(probe, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const v = probe();
        if (v !== undefined && v !== false) return v;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`condition not met within ${timeoutMs} ms`);
    },
    async close() {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return Object.assign(handle, api);
}
