/**
 * RFC 6120 section 6: SASL negotiation on a client stream. SCRAM-SHA-256 and
 * SCRAM-SHA-1 everywhere the stream allows authentication; PLAIN only once
 * the stream is encrypted (section 13.8: plaintext passwords need TLS).
 * Failures are answered after a delay that grows with repeated failures.
 */
import { xml, type Element } from "../../xmpp/xml.js";
import { formatJid, parseJid } from "../../model/jid.js";
import { credentialFor } from "./credentials.js";
import { NS } from "./ns.js";
import { SCRAM_MECHS, ScramFailure, ScramServer, verifyPassword, type ScramCredential, type ScramHash } from "./scram.js";
import type { AuthThrottle } from "./throttle.js";

export interface SaslDeps {
  domain: string;
  secure: boolean;
  address: string;
  throttle: AuthThrottle;
  /** Stored credentials of an account, or undefined when there is none. */
  credentials(bare: string): Promise<Record<string, unknown> | undefined>;
  fakeSalt(username: string): Buffer;
}

export type SaslStep = { reply: Element; success?: string; failed?: boolean };

const failure = (condition: string, text?: string) =>
  xml("failure", { xmlns: NS.sasl }, xml(condition), text ? xml("text", { "xml:lang": "en" }, text) : undefined);

function decode(el: Element): string | undefined {
  const t = el.getText().trim();
  if (t === "" || t === "=") return "";
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) return undefined; // RFC 6120 6.4.2: incorrect-encoding
  return Buffer.from(t, "base64").toString("utf8");
}

export class SaslNegotiation {
  private scram: ScramServer | undefined;
  private username = "";

  constructor(private readonly deps: SaslDeps) {}

  mechanisms(): string[] {
    return [...Object.keys(SCRAM_MECHS), ...(this.deps.secure ? ["PLAIN"] : [])];
  }

  /** One <auth/>, <response/> or <abort/>; returns the reply and, on success, the bare JID. */
  async step(el: Element): Promise<SaslStep> {
    try {
      if (el.name === "abort") {
        this.scram = undefined;
        return { reply: failure("aborted"), failed: true };
      }
      if (el.name === "auth") return await this.auth(el);
      if (el.name === "response" && this.scram) return await this.response(el);
      return await this.fail("malformed-request", "unexpected SASL element");
    } catch (err) {
      if (err instanceof ScramFailure) return this.fail(err.condition, err.message === err.condition ? undefined : err.message);
      throw err;
    }
  }

  private async auth(el: Element): Promise<SaslStep> {
    const mech = el.attrs.mechanism ?? "";
    if (!this.mechanisms().includes(mech)) {
      return mech === "PLAIN" ? this.fail("encryption-required") : this.fail("invalid-mechanism");
    }
    const data = decode(el);
    if (data === undefined) return this.fail("incorrect-encoding");
    if (mech === "PLAIN") return this.plain(data);
    const hash = SCRAM_MECHS[mech]!;
    this.scram = new ScramServer(hash, (u) => this.lookup(u, hash), this.deps.fakeSalt);
    const challenge = await this.scram.first(data);
    this.username = this.scram.username;
    return { reply: xml("challenge", { xmlns: NS.sasl }, Buffer.from(challenge).toString("base64")) };
  }

  private async response(el: Element): Promise<SaslStep> {
    const data = decode(el);
    if (data === undefined) return this.fail("incorrect-encoding");
    const scram = this.scram!;
    this.scram = undefined;
    const final = scram.final(data);
    return this.succeed(xml("success", { xmlns: NS.sasl }, Buffer.from(final).toString("base64")));
  }

  private async plain(data: string): Promise<SaslStep> {
    const parts = data.split("\0");
    if (parts.length !== 3) return this.fail("malformed-request");
    const [authzid, authcid, password] = parts as [string, string, string];
    this.username = authcid;
    const bare = this.bare(authcid);
    if (authzid && authzid !== bare && authzid !== authcid) return this.fail("invalid-authzid");
    const cred = bare ? credentialFor(await this.deps.credentials(bare), "SHA-256") : undefined;
    if (!cred || !verifyPassword("SHA-256", cred, password)) return this.fail("not-authorized");
    return this.succeed(xml("success", { xmlns: NS.sasl }));
  }

  private async lookup(username: string, hash: ScramHash): Promise<ScramCredential | undefined> {
    const bare = this.bare(username);
    return bare ? credentialFor(await this.deps.credentials(bare), hash) : undefined;
  }

  /** RFC 6120 6.3.8: the simple username is the localpart. */
  private bare(username: string): string | undefined {
    try {
      const j = parseJid(`${username}@${this.deps.domain}`);
      return j.resource ? undefined : formatJid(j, true);
    } catch {
      return undefined;
    }
  }

  private succeed(reply: Element): SaslStep {
    const bare = this.bare(this.username)!;
    this.deps.throttle.succeed(this.deps.address, bare);
    return { reply, success: bare };
  }

  private async fail(condition: string, text?: string): Promise<SaslStep> {
    const who = this.username || "-";
    const wait = this.deps.throttle.delayFor(this.deps.address, who);
    if (condition === "not-authorized") this.deps.throttle.fail(this.deps.address, who);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return { reply: failure(condition, text), failed: true };
  }
}
