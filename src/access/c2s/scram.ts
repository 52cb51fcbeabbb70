/**
 * SCRAM server, RFC 5802 (SCRAM-SHA-1) and RFC 7677 (SCRAM-SHA-256). Accounts
 * hold only salted credentials (StoredKey, ServerKey: RFC 5802 section 3), so
 * a stolen database does not give away passwords. Channel binding (-PLUS) is
 * not offered, so a client that asks for it ("p=") is refused (section 6).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { opaqueString } from "../../model/precis.js";

export type ScramHash = "SHA-1" | "SHA-256";
export const SCRAM_MECHS: Record<string, ScramHash> = { "SCRAM-SHA-256": "SHA-256", "SCRAM-SHA-1": "SHA-1" };

export interface ScramCredential {
  salt: string; // base64
  iterations: number;
  storedKey: string; // base64
  serverKey: string; // base64
}

const algo = (h: ScramHash) => (h === "SHA-1" ? "sha1" : "sha256");
const keyLen = (h: ScramHash) => (h === "SHA-1" ? 20 : 32);
const hmac = (h: ScramHash, key: Buffer, data: string) => createHmac(algo(h), key).update(data).digest();
const H = (h: ScramHash, data: Buffer) => createHash(algo(h)).update(data).digest();

/**
 * RFC 8265 4.2 OpaqueString, which replaces SASLprep (RFC 4013) for
 * passwords: NFC, non-ASCII spaces to U+0020, FreeformClass code points only.
 */
export function saslPrep(s: string): string {
  try {
    return opaqueString(s, "password");
  } catch (err) {
    throw new ScramFailure("malformed-request", (err as Error).message);
  }
}

/**
 * The NFKC form earlier releases derived credentials from. A password whose
 * two forms differ (compatibility characters such as "ﬀ" or fullwidth
 * letters) still passes PLAIN against a credential made that way.
 */
function legacyPrep(s: string): string {
  return s.normalize("NFKC").replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, " ").replace(/[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g, "");
}

export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(saslPrep(password), salt, iterations, keyLen(hash), algo(hash));
}

export function deriveCredential(hash: ScramHash, password: string, iterations = 4096, salt: Buffer = randomBytes(16)): ScramCredential {
  const sp = saltedPassword(hash, password, salt, iterations);
  const clientKey = hmac(hash, sp, "Client Key");
  return {
    salt: salt.toString("base64"),
    iterations,
    storedKey: H(hash, clientKey).toString("base64"),
    serverKey: hmac(hash, sp, "Server Key").toString("base64"),
  };
}

/** Checks a plain password against a stored credential (SASL PLAIN over TLS). */
export function verifyPassword(hash: ScramHash, cred: ScramCredential, password: string): boolean {
  let prepared: string;
  try {
    prepared = saslPrep(password);
  } catch {
    return false;
  }
  const legacy = legacyPrep(password);
  return matches(hash, cred, prepared) || (legacy !== prepared && matches(hash, cred, legacy));
}

function matches(hash: ScramHash, cred: ScramCredential, prepared: string): boolean {
  const sp = pbkdf2Sync(prepared, Buffer.from(cred.salt, "base64"), cred.iterations, keyLen(hash), algo(hash));
  const stored = H(hash, hmac(hash, sp, "Client Key"));
  const expected = Buffer.from(cred.storedKey, "base64");
  return stored.length === expected.length && timingSafeEqual(stored, expected);
}

/** A SASL failure with the RFC 6120 section 6.5 condition. */
export class ScramFailure extends Error {
  constructor(
    readonly condition: "not-authorized" | "malformed-request" | "invalid-authzid" | "encryption-required" | "temporary-auth-failure",
    text?: string,
  ) {
    super(text ?? condition);
  }
}

/** RFC 5802 section 5.1: saslname decoding (=2C is ",", =3D is "="). */
function decodeName(s: string): string {
  if (/=(?!2C|3D)/.test(s)) throw new ScramFailure("malformed-request", "bad saslname escape");
  return s.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

function attrs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(",")) {
    if (part.length < 2 || part[1] !== "=") throw new ScramFailure("malformed-request", "bad attribute");
    m.set(part[0]!, part.slice(2));
  }
  return m;
}

export type CredentialLookup = (username: string) => Promise<ScramCredential | undefined>;

/** One SCRAM exchange, server side. */
export class ScramServer {
  username = "";
  private gs2Header = "";
  private clientFirstBare = "";
  private serverFirst = "";
  private nonce = "";
  private cred: ScramCredential | undefined;

  constructor(
    readonly hash: ScramHash,
    private readonly lookup: CredentialLookup,
    private readonly fakeSalt: (username: string) => Buffer,
    private readonly serverNonce: () => string = () => randomBytes(18).toString("base64"),
  ) {}

  /** client-first-message -> server-first-message. */
  async first(clientFirst: string): Promise<string> {
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(clientFirst);
    if (!m) throw new ScramFailure("malformed-request", "bad gs2 header");
    if (m[1]!.startsWith("p=")) throw new ScramFailure("not-authorized", "channel binding is not supported");
    this.gs2Header = `${m[1]},${m[2] ?? ""},`;
    this.clientFirstBare = m[3]!;
    const a = attrs(this.clientFirstBare);
    if (a.has("m")) throw new ScramFailure("malformed-request", "unsupported mandatory extension");
    const n = a.get("n");
    const r = a.get("r");
    if (!n || !r) throw new ScramFailure("malformed-request", "missing username or nonce");
    this.username = saslPrep(decodeName(n));
    if (m[2] && decodeName(m[2].slice(2)) !== this.username) throw new ScramFailure("invalid-authzid");
    this.cred = await this.lookup(this.username);
    // An unknown user gets a plausible salt so the exchange does not reveal who exists.
    const salt = this.cred?.salt ?? this.fakeSalt(this.username).toString("base64");
    const iterations = this.cred?.iterations ?? 4096;
    this.nonce = r + this.serverNonce();
    this.serverFirst = `r=${this.nonce},s=${salt},i=${iterations}`;
    return this.serverFirst;
  }

  /** client-final-message -> server-final-message; throws not-authorized on a wrong proof. */
  final(clientFinal: string): string {
    const idx = clientFinal.lastIndexOf(",p=");
    if (idx < 0) throw new ScramFailure("malformed-request", "missing proof");
    const withoutProof = clientFinal.slice(0, idx);
    const a = attrs(withoutProof);
    if (a.get("c") !== Buffer.from(this.gs2Header).toString("base64")) throw new ScramFailure("not-authorized", "channel binding mismatch");
    if (a.get("r") !== this.nonce) throw new ScramFailure("not-authorized", "nonce mismatch");
    const proof = Buffer.from(clientFinal.slice(idx + 3), "base64");
    if (!this.cred) throw new ScramFailure("not-authorized");
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(this.cred.storedKey, "base64");
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    if (proof.length !== clientSignature.length) throw new ScramFailure("not-authorized");
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    if (!timingSafeEqual(H(this.hash, clientKey), storedKey)) throw new ScramFailure("not-authorized");
    const serverSignature = hmac(this.hash, Buffer.from(this.cred.serverKey, "base64"), authMessage);
    return `v=${serverSignature.toString("base64")}`;
  }
}
