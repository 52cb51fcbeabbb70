/**
 * Who may send us SIP, and as which domain. RFC 5922 section 7: over TLS the
 * partner's certificate must name the SIP domain of the request's From; a
 * request on a flow we opened to a partner must come from that partner's
 * domain. Plain TCP/UDP proves nothing and is only accepted when the operator
 * says so (sip.trust_plain_transports). The federation list applies on top.
 */
import type { SipMessage } from "sip";
import type { LoadedConfig } from "../../config/load.js";
import type { TrustStore } from "../../tls/trust.js";
import type { SecurityContext } from "../../model/envelope.js";
import { sipDomain } from "../../mapping/address.js";
import type { Profile } from "../../mapping/state-map.js";
import type { Flow } from "./flow.js";
import type { Federation } from "../../config/federation.js";

export type GateResult =
  | { ok: true; domain: string; profile: Profile; security: SecurityContext }
  | { ok: false; status: number; reason: string; text: string };

export class PartnerGate {
  constructor(
    private cfg: LoadedConfig,
    private trust: () => TrustStore | undefined,
    /** Hosted domains and partners: asked on every request, so a reload applies at once. */
    private readonly federation: () => Federation,
  ) {}

  update(cfg: LoadedConfig): void {
    this.cfg = cfg;
  }

  isHosted(domain: string): boolean {
    return this.federation().hosts(domain);
  }

  profileOf(domain: string): Profile {
    return this.federation().profileOf(domain) ?? "aol";
  }

  /** A federation-level check that does not depend on the transport. */
  allowedDomain(domain: string): string | undefined {
    const fed = this.federation();
    if (fed.denies(domain)) return `${domain} is not allowed to federate`;
    const partner = fed.partner(domain);
    if (fed.mode === "allow-listed" && (!partner || partner.protocol !== "sip")) return `${domain} is not a SIP partner of this domain`;
    return undefined;
  }

  check(rq: SipMessage, flow: Flow): GateResult {
    const from = rq.headers.from?.uri;
    const domain = from ? sipDomain(from) : undefined;
    if (!domain) return { ok: false, status: 400, reason: "Bad Request", text: "From is not a SIP URI" };
    if (this.isHosted(domain)) return { ok: false, status: 403, reason: "Forbidden", text: "From names a domain hosted here" };
    const denied = this.allowedDomain(domain);
    if (denied) return { ok: false, status: 403, reason: "Forbidden", text: denied };
    const security: SecurityContext = { auth: "none", remoteAddress: flow.remoteAddress };
    if (flow.domain) {
      // A flow we opened: the certificate was checked against flow.domain when it was opened.
      if (flow.domain !== domain) return { ok: false, status: 403, reason: "Forbidden", text: `this connection belongs to ${flow.domain}` };
      if (flow.transport === "TLS") security.auth = "certificate";
    } else if (flow.transport === "TLS") {
      const trust = this.trust();
      const peer = flow.peer;
      if (!trust || !peer) return { ok: false, status: 403, reason: "Forbidden", text: "no trust store" };
      const verdict = trust.assess({ domain, service: "sip", cert: peer.cert, chainAuthorized: peer.authorized, chainError: peer.error });
      if (!verdict.ok) return { ok: false, status: 403, reason: "Forbidden", text: `certificate not accepted for ${domain}: ${verdict.reason ?? "identity mismatch"}` };
      security.auth = "certificate";
      security.certFingerprint = peer.cert?.fingerprint256;
    } else if (!this.cfg.sip.trust_plain_transports) {
      return { ok: false, status: 403, reason: "Forbidden", text: "federation requires mutual TLS" };
    }
    if (flow.tlsVersion) security.tlsVersion = flow.tlsVersion;
    return { ok: true, domain, profile: this.profileOf(domain), security };
  }
}
