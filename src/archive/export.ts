/**
 * Streams a search out as JSON lines, CSV (RFC 4180, formula cells
 * neutralised) or mbox (mboxrd quoting, RFC 5322 headers with bare addresses,
 * RFC 2047 for non-ASCII header text and display names). Every format carries
 * the record's whole verdict list (enforced and shadow), not only the final
 * verdict. Pages through the
 * store by seq and honours the output's backpressure, so an export of any
 * size runs in constant memory.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import type { StoredRecord } from "./record.js";
import type { ArchiveQuery, ArchiveStore } from "./store.js";
import { parseArchivedContent } from "./content.js";
import { bareAddress, csvCell, headerText, mailbox, verdictLabel, verdictList } from "./export-text.js";

export const FORMATS = ["jsonl", "csv", "mbox"] as const;
export type ExportFormat = (typeof FORMATS)[number];

export function toJson(r: StoredRecord): Record<string, unknown> {
  return {
    seq: r.seq,
    rid: r.rid,
    msgId: r.msgId,
    time: new Date(r.ts).toISOString(),
    direction: r.direction,
    protocol: r.protocol,
    kind: r.kind,
    type: r.type,
    from: r.from,
    to: r.to,
    partner: r.partner,
    thread: r.thread,
    subject: r.subject,
    body: r.body,
    deliveredBody: r.deliveredBody,
    content: parseArchivedContent(r.content) ?? null,
    verdict: r.verdict,
    ruleId: r.ruleId,
    policyVersion: r.policyVersion,
    tlsVersion: r.tlsVersion,
    auth: r.auth,
    certFingerprint: r.certFingerprint,
    verdicts: verdictList(r.verdicts),
    hash: r.hash.toString("hex"),
  };
}

const CSV_COLUMNS = [
  "seq", "time", "direction", "protocol", "kind", "type", "from", "to", "partner", "thread", "subject", "body",
  "deliveredBody", "verdict", "ruleId", "verdicts", "policyVersion", "tlsVersion", "auth", "certFingerprint", "msgId", "rid", "hash",
] as const;

function mbox(r: StoredRecord): string {
  const d = new Date(r.ts);
  const sender = bareAddress(r.from ?? "") || "unknown";
  const lines = [
    `From ${sender} ${d.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) (\S+) GMT$/, "$1 $3 $2 $5 $4")}`,
    `From: ${mailbox(r.from ?? "")}`,
    `To: ${mailbox(r.to ?? "")}`,
    `Date: ${d.toUTCString().replace("GMT", "+0000")}`,
    `Subject: ${headerText(r.subject ?? "")}`,
    `Message-ID: <${r.rid}@archive.demarc>`,
    `X-Demarc-Message-Id: ${headerText(r.msgId)}`,
    `X-Demarc-Direction: ${r.direction}`,
    `X-Demarc-Verdict: ${r.verdict}${r.ruleId ? ` (${headerText(r.ruleId)})` : ""}`,
    ...verdictList(r.verdicts).map((v) => `X-Demarc-Rule: ${headerText(`${verdictLabel(v)}${v.reason ? `; ${v.reason}` : ""}`)}`),
    ...(r.thread ? [`X-Demarc-Thread: ${headerText(r.thread)}`] : []),
    `X-Demarc-Hash: ${r.hash.toString("hex")}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    ...(r.body ?? "").split(/\r?\n/).map((l) => (/^>*From /.test(l) ? `>${l}` : l)),
    "",
  ];
  return lines.join("\n") + "\n";
}

export function formatRecord(format: ExportFormat, r: StoredRecord): string {
  if (format === "jsonl") return JSON.stringify(toJson(r)) + "\n";
  if (format === "csv") {
    const j = toJson(r);
    const cells: Record<string, unknown> = { ...j, verdicts: verdictList(r.verdicts).map(verdictLabel).join("; ") };
    return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(",") + "\r\n";
  }
  return mbox(r);
}

export async function exportRecords(
  store: ArchiveStore,
  q: ArchiveQuery,
  format: ExportFormat,
  out: Writable,
  onProgress?: (done: number) => void,
): Promise<number> {
  let done = 0;
  if (format === "csv" && !out.write(CSV_COLUMNS.join(",") + "\r\n")) await once(out, "drain");
  for (let after = 0; ; ) {
    const page = await store.find(q, { afterSeq: after, limit: 500 });
    if (page.length === 0) break;
    for (const r of page) {
      if (!out.write(formatRecord(format, r))) await once(out, "drain");
      done++;
    }
    after = page[page.length - 1]!.seq;
    onProgress?.(done);
  }
  return done;
}
