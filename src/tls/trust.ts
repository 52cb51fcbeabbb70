/**
 * Whom we trust to vouch for a peer: the system roots, CA files the operator
 * names, and certificates pinned per partner by their SHA-256 fingerprint (a
 * pinned certificate is accepted for that partner even when no CA issued it,
 * and only for that partner).
 */
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { X509Certificate } from "node:crypto";
import { ConfigError } from "../errors.js";
import { checkPeerIdentity, normalizeDomain, type IdentityMatch, type PeerService } from "./peer.js";

export interface TrustOptions {
  system: boolean;
  caFiles: string[];
  /** Partner domain -> SHA-256 fingerprints (hex, with or without colons). */
  pinned?: Record<string, string[]>;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** "ab:cd:..." and "ABCD..." compare equal. */
export function normalizeFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-f]/gi, "").toUpperCase();
}

export function splitPem(text: string): string[] {
  return text.match(PEM_BLOCK) ?? [];
}

export function readCaFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`${path}: cannot read CA file (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const blocks = splitPem(text);
  if (blocks.length === 0) throw new ConfigError(`${path}: no PEM certificate in the CA file`);
  for (const [i, pem] of blocks.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new ConfigError(`${path}: certificate #${i + 1} in the CA file does not parse`);
    }
  }
  return blocks;
}

/**
 * Whether a certificate chains to one of the anchors, through the
 * intermediates given with it (signatures checked, at most 8 links). Used to
 * warn an operator before partners refuse a certificate, not for peers (the
 * TLS stack verifies those).
 */
export function chainsTo(chain: string[], anchors: string[]): boolean {
  const parse = (pems: string[]) =>
    pems.flatMap((p) => {
      try {
        return [new X509Certificate(p)];
      } catch {
        return [];
      }
    });
  const [leaf, ...rest] = parse(chain);
  if (!leaf) return false;
  const roots = parse(anchors);
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const signedBy = (c: X509Certificate) => current.checkIssued(c) && current.verify(c.publicKey);
    if (roots.some(signedBy)) return true;
    const next = rest.find((c) => c !== current && signedBy(c));
    if (!next || next.fingerprint256 === current.fingerprint256) return false;
    current = next;
  }
  return false;
}

export interface PeerVerdict {
  ok: boolean;
  /** How the peer was authenticated, or why not (for logs and stream errors). */
  via?: "pinned" | "ca";
  identity?: IdentityMatch;
  reason?: string;
}

export class TrustStore {
  /** PEMs to pass as the tls `ca` option. */
  readonly ca: string[];
  private readonly pins: Map<string, Set<string>>;

  private constructor(ca: string[], pins: Map<string, Set<string>>) {
    this.ca = ca;
    this.pins = pins;
  }

  static load(opts: TrustOptions): TrustStore {
    const ca: string[] = opts.system ? [...rootCertificates] : [];
    for (const file of opts.caFiles) ca.push(...readCaFile(file));
    const pins = new Map<string, Set<string>>();
    for (const [domain, fps] of Object.entries(opts.pinned ?? {})) {
      const key = normalizeDomain(domain);
      if (!key) throw new ConfigError(`pinned certificates: "${domain}" is not a valid domain`);
      const set = pins.get(key) ?? new Set<string>();
      for (const fp of fps) {
        const n = normalizeFingerprint(fp);
        if (n.length !== 64) throw new ConfigError(`pinned certificates for ${domain}: "${fp}" is not a SHA-256 fingerprint`);
        set.add(n);
      }
      pins.set(key, set);
    }
    return new TrustStore(ca, pins);
  }

  isPinned(domain: string, fingerprint256: string): boolean {
    return this.pins.get(normalizeDomain(domain))?.has(normalizeFingerprint(fingerprint256)) ?? false;
  }

  hasPins(domain: string): boolean {
    return (this.pins.get(normalizeDomain(domain))?.size ?? 0) > 0;
  }

  /**
   * Decides on a peer after the TLS handshake: `chainAuthorized` is the
   * socket's `authorized` (the chain verified against `ca`). A pinned
   * certificate stands on its own; otherwise the chain must verify AND the
   * certificate must name the domain (RFC 6125).
   */
  assess(opts: { domain: string; service: PeerService; cert: X509Certificate | undefined; chainAuthorized: boolean; chainError?: string | undefined }): PeerVerdict {
    const { cert, domain } = opts;
    if (!cert) return { ok: false, reason: "the peer presented no certificate" };
    if (this.isPinned(domain, cert.fingerprint256)) return { ok: true, via: "pinned" };
    if (this.hasPins(domain)) return { ok: false, reason: `certificate ${cert.fingerprint256} is not one pinned for ${domain}` };
    if (!opts.chainAuthorized) return { ok: false, reason: `certificate chain not trusted (${opts.chainError ?? "unknown issuer"})` };
    const identity = checkPeerIdentity(cert, domain, opts.service);
    if (!identity.ok) return { ok: false, identity, reason: identity.reason };
    return { ok: true, via: "ca", identity };
  }
}
