/**
 * Cell and header text for the archive's CSV and mbox exports. Hand-written
 * because each rule is a line or two and the packages that would cover them
 * (a CSV writer, a MIME builder) do neither the spreadsheet neutralisation
 * nor the XMPP-address handling that matter here.
 */

/** One verdict as the archive stores it (src/archive/record.ts canonicalVerdicts). */
export interface ExportedVerdict {
  stage: string;
  ruleId: string | null;
  action: string;
  reason: string | null;
  shadow: boolean;
  detail: string | null;
}

/** The record's whole verdict list; a purged record (or one from before verdicts were kept) has none. */
export function verdictList(stored: string | null | undefined): ExportedVerdict[] {
  if (!stored) return [];
  try {
    const list = JSON.parse(stored) as unknown;
    return Array.isArray(list) ? (list as ExportedVerdict[]) : [];
  } catch {
    return [];
  }
}

/** "rules/no-deals=quarantine" or "rules/watch=block (shadow)": every verdict, enforced and shadow. */
export function verdictLabel(v: ExportedVerdict): string {
  return `${v.stage}${v.ruleId ? `/${v.ruleId}` : ""}=${v.action}${v.shadow ? " (shadow)" : ""}`;
}

/**
 * A spreadsheet reads a cell that starts with = + - @ (or a tab or CR before
 * them) as a formula: a partner's =HYPERLINK(...) would run in the analyst's
 * sheet. As OWASP's CSV-injection guidance says, such a cell gets a leading
 * single quote (shown as text, not evaluated) and is always quoted; other
 * cells follow RFC 4180 (quoted when they hold a quote, comma or line break).
 */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) return `"'${s.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Unstructured header text (RFC 5322 2.2.1): one line, RFC 2047 encoded words when not printable ASCII. */
export function headerText(v: string): string {
  const flat = v.replace(/[\r\n]+/g, " ");
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, "utf8").toString("base64")}?=`;
}

/** The bare address of an XMPP or SIP address: no resource, no sip: scheme, no parameters. */
export function bareAddress(address: string): string {
  let a = address.trim().replace(/^sips?:/i, "");
  a = a.split(/[;?]/)[0]!;
  const slash = a.indexOf("/");
  return (slash >= 0 ? a.slice(0, slash) : a).replace(/[\s<>"(),:;\\[\]]/g, "");
}

/**
 * An RFC 5322 mailbox: the full address (with its resource) as the display
 * name, where RFC 2047 may encode it (5322 3.4, 2047 5(3)); the bare address
 * between angle brackets, never encoded (RFC 2047 5 forbids encoded words in
 * an addr-spec; a non-ASCII localpart goes as UTF-8 per RFC 6532). A domain-only
 * address (a server) gets its postmaster mailbox (RFC 5321 4.5.1).
 */
export function mailbox(address: string): string {
  const bare = bareAddress(address) || "unknown";
  const addrSpec = bare.includes("@") ? bare : `postmaster@${bare}`;
  const display = address.replace(/[\r\n]+/g, " ").trim();
  if (!display || display === addrSpec) return `<${addrSpec}>`;
  const name = /^[\x20-\x7e]*$/.test(display) ? `"${display.replace(/["\\]/g, "\\$&")}"` : headerText(display);
  return `${name} <${addrSpec}>`;
}
