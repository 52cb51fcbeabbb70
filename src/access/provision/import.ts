/**
 * Bulk import of users and contact lists (the design guide's bulk
 * administration): one CSV with a header naming its columns,
 *
 *   jid,password,group,contact,name,roster_group
 *
 * A row with a password creates the account (or replaces its password); a row
 * with a contact puts that contact on the user's list. Contacts at hosted
 * domains are imported as mutual subscriptions ("both") on both sides, as a
 * provisioned contact list is approved by the administrator; contacts at other
 * domains are added without a subscription (the user asks later). Limits apply.
 */
import { formatJid, parseJid } from "../../model/jid.js";
import type { CoreStore } from "../../core/store.js";
import { emptyItem } from "../../core/subscription.js";
import type { RosterItem } from "../../core/types.js";
import { makeCredentials } from "../c2s/credentials.js";
import { parseCsv } from "./csv.js";

export interface ImportOptions {
  store: CoreStore;
  domains: string[];
  maxContacts: number;
  iterations: number;
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ImportReport {
  usersCreated: number;
  passwordsSet: number;
  contactsAdded: number;
  /** One line per refused row: "LINE: reason". */
  problems: string[];
}

const COLUMNS = ["jid", "password", "group", "contact", "name", "roster_group"] as const;

function bare(input: string): string {
  const j = parseJid(input.trim());
  if (j.resource || !j.local) throw new Error(`"${input}" is not a bare user JID`);
  return formatJid(j, true);
}

export async function importCsv(text: string, o: ImportOptions): Promise<ImportReport> {
  const records = parseCsv(text);
  const head = records.shift();
  if (!head) throw new Error("the file is empty");
  const cols = head.fields.map((f) => f.trim().toLowerCase());
  const unknown = cols.filter((c) => !(COLUMNS as readonly string[]).includes(c));
  if (unknown.length || !cols.includes("jid")) throw new Error(`line ${head.line}: the header must name columns from ${COLUMNS.join(",")} including jid (unknown: ${unknown.join(",") || "none"})`);
  const at = (r: string[], c: (typeof COLUMNS)[number]) => (cols.includes(c) ? (r[cols.indexOf(c)] ?? "").trim() : "");
  const hosted = new Set(o.domains.map((d) => d.toLowerCase()));
  const report: ImportReport = { usersCreated: 0, passwordsSet: 0, contactsAdded: 0, problems: [] };
  const rosters = new Map<string, Map<string, RosterItem>>();
  const known = new Map<string, boolean>();
  const exists = async (jid: string) => {
    if (!known.has(jid)) known.set(jid, (await o.store.getUser(jid)) !== undefined);
    return known.get(jid)!;
  };
  const roster = async (jid: string) => {
    let r = rosters.get(jid);
    if (!r) {
      r = new Map((await o.store.loadRoster(jid)).map((i) => [i.jid, i]));
      rosters.set(jid, r);
    }
    return r;
  };
  const put = (r: Map<string, RosterItem>, item: RosterItem) => r.set(item.jid, item);
  const visible = (r: Map<string, RosterItem>) => [...r.values()].filter((i) => !i.hidden).length;

  // Accounts first, so contacts can refer to users defined further down the file.
  for (const rec of records) {
    try {
      const jid = bare(at(rec.fields, "jid"));
      if (!hosted.has(jid.slice(jid.indexOf("@") + 1))) throw new Error(`${jid} is not at a hosted domain (${o.domains.join(", ")})`);
      const password = at(rec.fields, "password");
      if (password) {
        const had = await exists(jid);
        if (!o.dryRun) await o.store.putUser({ jid, group: at(rec.fields, "group") || (await o.store.getUser(jid))?.group, credentials: makeCredentials(password, o.iterations) });
        known.set(jid, true);
        if (had) report.passwordsSet++;
        else report.usersCreated++;
      } else if (!at(rec.fields, "contact") && !(await exists(jid))) {
        throw new Error(`${jid} does not exist and the row gives no password`);
      }
    } catch (err) {
      report.problems.push(`line ${rec.line}: ${(err as Error).message}`);
    }
    o.onProgress?.(report.usersCreated + report.passwordsSet + report.problems.length, records.length * 2);
  }
  let n = 0;
  for (const rec of records) {
    n++;
    const c = at(rec.fields, "contact");
    if (!c) continue;
    try {
      const jid = bare(at(rec.fields, "jid"));
      const contact = bare(c);
      if (contact === jid) throw new Error("a user cannot be their own contact");
      if (!(await exists(jid))) throw new Error(`${jid} does not exist`);
      const internal = hosted.has(contact.slice(contact.indexOf("@") + 1));
      if (internal && !(await exists(contact))) throw new Error(`contact ${contact} does not exist`);
      const mine = await roster(jid);
      const groups = at(rec.fields, "roster_group") ? [at(rec.fields, "roster_group")] : [];
      const current = mine.get(contact);
      if ((!current || current.hidden) && visible(mine) >= o.maxContacts) throw new Error(`${jid} would exceed the maximum of ${o.maxContacts} contacts`);
      const item: RosterItem = { ...(current ?? emptyItem(contact)), name: at(rec.fields, "name") || current?.name, groups: [...new Set([...(current?.groups ?? []), ...groups])], hidden: false };
      if (internal) {
        const theirs = await roster(contact);
        const back = theirs.get(jid);
        if ((!back || back.hidden) && visible(theirs) >= o.maxContacts) throw new Error(`${contact} would exceed the maximum of ${o.maxContacts} contacts`);
        put(theirs, { ...(back ?? emptyItem(jid)), subscription: "both", ask: false, pendingIn: false, hidden: false });
        item.subscription = "both";
        item.ask = false;
        item.pendingIn = false;
      }
      put(mine, item);
      report.contactsAdded++;
    } catch (err) {
      report.problems.push(`line ${rec.line}: ${(err as Error).message}`);
    }
    o.onProgress?.(records.length + n, records.length * 2);
  }
  if (!o.dryRun) for (const [jid, r] of rosters) await o.store.putItems(jid, [...r.values()]);
  o.onProgress?.(records.length * 2, records.length * 2);
  return report;
}
