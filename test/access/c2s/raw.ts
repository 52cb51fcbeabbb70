/**
 * A bare-hands XMPP client for transcript tests: writes exactly the bytes the
 * test gives and collects what the server answers, parsed by the product's
 * own stream parser.
 */
import { connect as tlsConnect } from "node:tls";
import { connect as netConnect, type Socket } from "node:net";
import { XmppStreamParser } from "../../../src/xmpp/stream-parser.js";
import type { Element } from "../../../src/xmpp/xml.js";
import { C2S_PORT, C2S_TLS_PORT } from "./helpers.js";

export const HEADER = "<?xml version='1.0'?><stream:stream to='corp.test' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

export class Raw {
  readonly elements: Element[] = [];
  text = "";
  closed = false;
  private parser = new XmppStreamParser({ maxStanzaBytes: 1 << 20 });

  private constructor(readonly socket: Socket) {
    this.parser.on("stanza", (el) => this.elements.push(el));
    this.parser.on("error", () => undefined);
    socket.on("data", (c: Buffer) => {
      this.text += c.toString("utf8");
      this.parser.write(c);
    });
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => undefined);
  }

  static async direct(address: string, ca: string): Promise<Raw> {
    const s = tlsConnect({ host: address, port: C2S_TLS_PORT, servername: "corp.test", ca: [ca] });
    await new Promise<void>((res, rej) => (s.once("secureConnect", () => res()), s.once("error", rej)));
    return new Raw(s);
  }

  static async plain(address: string): Promise<Raw> {
    const s = netConnect({ host: address, port: C2S_PORT });
    await new Promise<void>((res, rej) => (s.once("connect", () => res()), s.once("error", rej)));
    return new Raw(s);
  }

  /** New stream on the same socket (after SASL). */
  restart(): void {
    this.parser.reset();
    this.elements.length = 0;
    this.write(HEADER);
  }

  write(s: string): void {
    this.socket.write(s);
  }

  async waitFor(match: (el: Element) => boolean, timeoutMs = 5_000): Promise<Element> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const el = this.elements.find(match);
      if (el) return el;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`not received; got: ${this.text.slice(-2000)}`);
  }

  async waitClosed(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!this.closed) throw new Error("not closed");
  }

  /** Opens a stream, authenticates with PLAIN (TLS only), restarts, binds. */
  async login(user: string, password: string, resource: string): Promise<void> {
    this.write(HEADER);
    await this.waitFor((e) => e.name === "stream:features" || e.name === "features");
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString("base64")}</auth>`);
    await this.waitFor((e) => e.name === "success");
    this.restart();
    await this.waitFor((e) => e.name === "stream:features" || e.name === "features");
    if (resource) {
      this.write(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
      await this.waitFor((e) => e.name === "iq" && e.attrs.id === "b1");
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
