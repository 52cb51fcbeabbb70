/**
 * The smallest honest idle client: TCP, STARTTLS (RFC 6120 section 5), SASL
 * PLAIN over TLS (section 6), resource binding (section 7), initial presence,
 * then nothing. The same bytes go to every server measured, and the client
 * keeps no more than its socket, so 2,000 of them fit in the benchmark itself.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";

export interface IdleSession {
  socket: TLSSocket;
  close(): void;
}

function header(domain: string): string {
  return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
}

/** Collects what the server sends until `re` matches, bounded in time. */
function expect(s: Socket, re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (c: Buffer) => {
      text += c.toString("utf8");
      if (re.test(text)) done(undefined);
    };
    const onClose = () => done(new Error(`closed while waiting for ${re}: ${text.slice(-300)}`));
    const timer = setTimeout(() => done(new Error(`no ${re} within ${timeoutMs} ms: ${text.slice(-300)}`)), timeoutMs);
    function done(err: Error | undefined) {
      clearTimeout(timer);
      s.off("data", onData);
      s.off("close", onClose);
      if (err) reject(err);
      else resolve(text);
    }
    s.on("data", onData);
    s.once("close", onClose);
  });
}

export async function openIdleSession(o: { address: string; port: number; domain: string; user: string; password: string; ca: string }, timeoutMs = 20_000): Promise<IdleSession> {
  const raw = netConnect({ host: o.address, port: o.port });
  raw.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    raw.once("connect", resolve);
    raw.once("error", reject);
  });
  raw.write(header(o.domain));
  await expect(raw, /<\/stream:features>/, timeoutMs);
  raw.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  await expect(raw, /<proceed/, timeoutMs);
  const s = tlsConnect({ socket: raw, servername: o.domain, ca: o.ca });
  s.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    s.once("secureConnect", resolve);
    s.once("error", reject);
  });
  s.write(header(o.domain));
  await expect(s, /<\/stream:features>/, timeoutMs);
  const plain = Buffer.from(`\0${o.user}\0${o.password}`).toString("base64");
  s.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
  await expect(s, /<success|<failure/, timeoutMs).then((t) => {
    if (!/<success/.test(t)) throw new Error(`${o.user}: authentication failed: ${t.slice(-200)}`);
  });
  s.write(header(o.domain));
  await expect(s, /<\/stream:features>/, timeoutMs);
  s.write("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>idle</resource></bind></iq>");
  await expect(s, /<jid>/, timeoutMs);
  s.write("<presence/>");
  return { socket: s, close: () => s.destroy() };
}
