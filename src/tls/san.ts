/**
 * subjectAltName (RFC 5280 section 4.2.1.6) built and read as raw ASN.1.
 *
 * node-forge tags otherName as [0] primitive (0x80) instead of [0] constructed
 * (0xa0), and Node's X509Certificate does not expose otherName values, so both
 * directions are done here: XmppAddr (RFC 6120 section 13.7.1.4,
 * id-on-xmppAddr 1.3.6.1.5.5.7.8.5, UTF8String) and SRVName (RFC 4985,
 * id-on-dnsSRV 1.3.6.1.5.5.7.8.7, IA5String "_service.domain").
 */
import { isIPv4, isIPv6 } from "node:net";
import forge from "node-forge";

const { asn1 } = forge;

export const OID_SAN = "2.5.29.17";
export const OID_XMPP_ADDR = "1.3.6.1.5.5.7.8.5";
export const OID_SRV_NAME = "1.3.6.1.5.5.7.8.7";

export interface SanNames {
  dns?: string[];
  xmppAddr?: string[];
  /** SRVName values, "_service.domain" (e.g. "_xmpp-server.example.com"). */
  srv?: string[];
  uri?: string[];
  ip?: string[];
}

function otherName(oid: string, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [value]),
  ]);
}

function ipBytes(ip: string): string {
  if (isIPv4(ip)) return String.fromCharCode(...ip.split(".").map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => { const n = parseInt(g, 16); return String.fromCharCode(n >> 8, n & 0xff); }).join("");
}

function ipFromBytes(b: string): string {
  const codes = [...b].map((c) => c.charCodeAt(0));
  if (codes.length === 4) return codes.join(".");
  const groups: string[] = [];
  for (let i = 0; i + 1 < codes.length; i += 2) groups.push(((codes[i]! << 8) | codes[i + 1]!).toString(16));
  return groups.join(":");
}

/** The GeneralNames SEQUENCE, DER-ready. */
export function sanAsn1(names: SanNames): forge.asn1.Asn1 {
  const items: forge.asn1.Asn1[] = [];
  for (const d of names.dns ?? []) items.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, d));
  for (const x of names.xmppAddr ?? []) {
    items.push(otherName(OID_XMPP_ADDR, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(x))));
  }
  for (const s of names.srv ?? []) {
    items.push(otherName(OID_SRV_NAME, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.IA5STRING, false, s)));
  }
  for (const u of names.uri ?? []) items.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, u));
  for (const ip of names.ip ?? []) items.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, ipBytes(ip)));
  if (items.length === 0) throw new Error("a subjectAltName needs at least one name");
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

/** A forge extension object carrying our own encoding (forge keeps a given `value` as is). */
export function sanExtension(names: SanNames): { id: string; name: string; critical?: boolean; value: string } {
  return { id: OID_SAN, name: "subjectAltName", value: asn1.toDer(sanAsn1(names)).getBytes() };
}

export interface ParsedSan {
  dns: string[];
  xmppAddr: string[];
  srv: string[];
  uri: string[];
  ip: string[];
}

/** Reads the subjectAltName of a DER certificate; undefined when it has none. */
export function readSan(der: Buffer): ParsedSan | undefined {
  const cert = asn1.fromDer(forge.util.createBuffer(der.toString("binary")), false);
  const tbs = (cert.value as forge.asn1.Asn1[])[0]!;
  const extsWrapper = (tbs.value as forge.asn1.Asn1[]).find(
    (n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3,
  );
  if (!extsWrapper) return undefined;
  const exts = ((extsWrapper.value as forge.asn1.Asn1[])[0]?.value ?? []) as forge.asn1.Asn1[];
  for (const ext of exts) {
    const parts = ext.value as forge.asn1.Asn1[];
    if (asn1.derToOid(parts[0]!.value as string) !== OID_SAN) continue;
    const octets = parts[parts.length - 1]!.value as string;
    return parseGeneralNames(asn1.fromDer(octets, false));
  }
  return undefined;
}

function parseGeneralNames(seq: forge.asn1.Asn1): ParsedSan {
  const out: ParsedSan = { dns: [], xmppAddr: [], srv: [], uri: [], ip: [] };
  for (const gn of seq.value as forge.asn1.Asn1[]) {
    if (gn.tagClass !== asn1.Class.CONTEXT_SPECIFIC) continue;
    if (gn.type === 2) out.dns.push(String(gn.value));
    else if (gn.type === 6) out.uri.push(String(gn.value));
    else if (gn.type === 7) out.ip.push(ipFromBytes(String(gn.value)));
    else if (gn.type === 0 && gn.constructed) {
      const [oidNode, wrapped] = gn.value as forge.asn1.Asn1[];
      if (!oidNode || !wrapped || !Array.isArray(wrapped.value)) continue;
      const oid = asn1.derToOid(oidNode.value as string);
      const inner = wrapped.value[0];
      if (!inner || typeof inner.value !== "string") continue;
      if (oid === OID_XMPP_ADDR && inner.type === asn1.Type.UTF8) out.xmppAddr.push(forge.util.decodeUtf8(inner.value));
      else if (oid === OID_SRV_NAME && inner.type === asn1.Type.IA5STRING) out.srv.push(inner.value);
    }
  }
  return out;
}
