/**
 * Partner health per partner domain: the last inbound and outbound s2s
 * stream this gateway saw (authentication, TLS, the certificate's names and
 * expiry), a live SRV check, and recent failures in plain words. Streams and
 * failures are tracked in memory since start (src/edge/xmpp/health.ts); for a
 * domain with no stream since then, the last archived message's stream facts
 * stand in, and the page says so. SIP peers are not covered yet.
 */
import { partnerTraffic, type PartnerTraffic } from "../../../archive/review-queries.js";
import type { StreamSeen, PartnerState } from "../../../edge/xmpp/health.js";
import { html, type SafeHtml } from "../html.js";
import { time } from "../layout.js";
import type { ConsoleRoute, Page } from "../types.js";

/** The edge's failure texts, said from the officer's side. */
export function plainWords(domain: string, text: string): string {
  const names = /^certificate does not name (\S+) \(it names (.+)\)$/.exec(text);
  if (names) return `their certificate names ${names[2]!.replace(/\b(DNS|SRVName|XmppAddr|URI|CN):/g, "")}, not ${names[1]}`;
  const chain = /^certificate chain not trusted \((.+)\)$/.exec(text);
  if (chain) return `their certificate is not signed by a CA we trust (${chain[1]})`;
  if (text === "the peer presented no certificate") return "they presented no certificate";
  if (text.startsWith(`${domain} unreachable: `)) return `we could not reach them: ${text.slice(domain.length + 14)}`;
  if (text === `${domain}: no address found`) return `DNS has no SRV or address records for ${domain}`;
  return text;
}

function stream(s: StreamSeen | null, archived: PartnerTraffic | undefined): SafeHtml {
  if (s) {
    const cert = s.cert
      ? html`<br>certificate names ${s.cert.names.join(", ") || "nothing"}; ${s.cert.validTo < Date.now() ? html`<span class="error">expired</span>` : "expires"} ${time(s.cert.validTo)}`
      : html`<br><span class="muted">no certificate recorded for this stream</span>`;
    return html`${time(s.at)}<br>auth ${s.auth}, ${s.tlsVersion ?? "no TLS"}${cert}`;
  }
  if (archived) {
    return html`<span class="muted">no stream since the gateway started; last archived message</span> ${time(archived.lastAt)}<br>auth ${archived.auth ?? "not recorded"}, ${archived.tlsVersion ?? "TLS not recorded"}${archived.certFingerprint ? html`<br>certificate <code>${archived.certFingerprint}</code>` : ""}`;
  }
  return html`<span class="none">none seen</span>`;
}

async function srvCheck(p: Page, domain: string): Promise<SafeHtml> {
  const resolver = p.deps.resolver();
  if (!resolver) return html`<span class="none">no resolver in this gateway</span>`;
  try {
    const records = await Promise.race([
      resolver.srv(`_xmpp-server._tcp.${domain}`),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no answer within 3 s")), 3000).unref()),
    ]);
    return records.length
      ? html`${records.map((r) => html`<div>${r.name}:${r.port} (priority ${r.priority}, weight ${r.weight})</div>`)}`
      : html`<span class="muted">no SRV records; streams go to ${domain}:5269</span>`;
  } catch (err) {
    return html`<span class="error">SRV lookup failed: ${(err as Error).message}</span>`;
  }
}

export const partnerRoutes: ConsoleRoute[] = [
  {
    method: "GET",
    url: "/partners",
    need: "officer",
    async handler(_req, _reply, p) {
      const traffic = await partnerTraffic(p.deps.db);
      const seen = new Map<string, PartnerState>((p.deps.partners?.all() ?? []).map((s) => [s.domain, s]));
      const domains = [...new Set([...p.deps.config().partners.map((x) => x.domain.toLowerCase()), ...seen.keys(), ...traffic.map((t) => t.domain)])].sort().slice(0, 200);
      const rows = await Promise.all(
        domains.map(async (d) => {
          const s = seen.get(d);
          const arch = (dir: string) => traffic.find((t) => t.domain === d && t.direction === dir);
          const failures = s?.failures ?? [];
          return html`<tr data-domain="${d}"><td><strong>${d}</strong></td><td>${stream(s?.lastInbound ?? null, arch("inbound"))}</td><td>${stream(s?.lastOutbound ?? null, arch("outbound"))}</td>
<td>${await srvCheck(p, d)}</td><td class="failures">${failures.length ? failures.map((x) => html`<div>${time(x.at)} ${x.direction}: ${plainWords(d, x.text)}</div>`) : html`<span class="none">none since start</span>`}</td></tr>`;
        }),
      );
      return p.render(
        "Partner health",
        html`<table id="partners"><tr><th>Partner domain</th><th>Last inbound stream</th><th>Last outbound stream</th><th>SRV check</th><th>Recent failures</th></tr>${rows}</table>
${domains.length === 0 ? html`<p class="none">no partners configured or seen</p>` : ""}
<p class="muted">Streams and failures are those this gateway saw since it started; SIP peers are not shown yet.</p>`,
      );
    },
  },
];
