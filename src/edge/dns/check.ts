/**
 * Checks published DNS against the records the deployment needs. An SRV
 * record is right when some answer points at the expected host and port
 * (priority and weight are the operator's choice); an address record is right
 * when the expected address is among the answers.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { Resolver } from "./resolver.js";
import { zoneLine, type DnsRecord } from "./records.js";

export type CheckState = "ok" | "missing" | "wrong";

export interface CheckResult {
  record: DnsRecord;
  state: CheckState;
  /** What DNS answered instead, for "wrong". */
  found: string[];
}

const bare = (n: string) => n.toLowerCase().replace(/\.$/, "");

export async function checkRecords(resolver: Resolver, records: DnsRecord[]): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const record of records) {
    if (record.type === "SRV") {
      const answers = await resolver.srv(record.name);
      const found = answers.map((a) => `${a.priority} ${a.weight} ${a.port} ${a.name === "." ? "." : `${bare(a.name)}.`}`);
      const ok = answers.some((a) => bare(a.name) === bare(record.srv.target) && a.port === record.srv.port);
      out.push({ record, state: ok ? "ok" : answers.length ? "wrong" : "missing", found });
    } else {
      const family = record.type === "A" ? isIPv4 : isIPv6;
      const answers = (await resolver.addresses(record.name)).filter((a) => family(a));
      const ok = answers.some((a) => a === record.address);
      out.push({ record, state: ok ? "ok" : answers.length ? "wrong" : "missing", found: answers });
    }
  }
  return out;
}

export function describeResult(r: CheckResult): string {
  const label = r.state === "ok" ? "ok     " : r.state === "missing" ? "MISSING" : "WRONG  ";
  const tail = r.state === "wrong" ? `   (found: ${r.found.join(", ")})` : "";
  return `${label} ${zoneLine(r.record)}${tail}`;
}
