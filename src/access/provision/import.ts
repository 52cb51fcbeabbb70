/**
 * Bulk import of users and contact lists (the design guide's bulk
 * administration): one CSV with a header naming its columns,
 *
 *   jid,password,group,contact,name,roster_group
 *
 * A row with a password creates the account; an existing account's password
 * is replaced only with updatePasswords (`users import --update-passwords`),
 * so running the same file twice changes nothing. A row with a contact puts
 * that contact on the user's list. The report counts only what changed. Contacts at hosted
 * domains are imported as mutual subscriptions ("both") on both sides, as a
 * provisioned contact list is approved by the administrator; contacts at other
 * domains are added without a subscription (the user asks later). Limits apply.
 */
import { formatJid, parseJid } from "../../model/jid.js";
import type { CoreStore } from "../../core/store.js";
import { emptyItem } from "../../core/subscription.js";
import type { RosterItem } from "../../core/types.js";
import { makeCredentials, passwordProblem } from "../c2s/credentials.js";
import { parseCsv } from "./csv.js";

export interface ImportOptions {
  store: CoreStore;
  domains: string[];
  maxContacts: number;
  iterations: number;
  /** Shortest new password accepted (c2s.min_password_length). */
  minPasswordLength: number;
  /** Replace the password of accounts that already exist. */
  updatePasswords?: boolean;
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ImportReport {
  usersCreated: number;
  passwordsSet: number;
  contactsAdded: number;
  /** Rows for accounts that exist, left as they are (no updatePasswords). */
  usersKept: number;
  /** Contacts already on the user's list. */
  contactsKept: number;
  /** One line per refused row: "LINE: reason". */
  problems: string[];
}

const COLUMNS = ["jid", "password", "group", "contact", "name", "roster_group"] as const;

function bare(input: string): string {
  const j = parseJid(input.trim());
  if (j.resource || !j.local) throw new Error(`"${input}" is not a bare user JID`);
  return formatJid(j, true);
}

type Col = (typeof COLUMNS)[number];

interface Run {
  o: ImportOptions;
  records: { line: number; fields: string[] }[];
  at: (r: string[], c: Col) => string;
  hosted: Set<string>;
  report: ImportReport;
  known: Map<string, boolean>;
  rosters: Map<string, Map<string, RosterItem>>;
}

async function exists(run: Run, jid: string): Promise<boolean> {
  if (!run.known.has(jid)) run.known.set(jid, (await run.o.store.getUser(jid)) !== undefined);
  return run.known.get(jid)!;
}

async function rosterOf(run: Run, jid: string): Promise<Map<string, RosterItem>> {
  let r = run.rosters.get(jid);
  if (!r) {
    r = new Map((await run.o.store.loadRoster(jid)).map((i) => [i.jid, i]));
    run.rosters.set(jid, r);
  }
  return r;
}

const visible = (r: Map<string, RosterItem>) => [...r.values()].filter((i) => !i.hidden).length;

export async function importCsv(text: string, o: ImportOptions): Promise<ImportReport> {
  const records = parseCsv(text);
  const head = records.shift();
  if (!head) throw new Error("the file is empty");
  const cols = head.fields.map((f) => f.trim().toLowerCase());
  const unknown = cols.filter((c) => !(COLUMNS as readonly string[]).includes(c));
  if (unknown.length || !cols.includes("jid")) throw new Error(`line ${head.line}: the header must name columns from ${COLUMNS.join(",")} including jid (unknown: ${unknown.join(",") || "none"})`);
  const run: Run = {
    o,
    records,
    at: (r, c) => (cols.includes(c) ? (r[cols.indexOf(c)] ?? "").trim() : ""),
    hosted: new Set(o.domains.map((d) => d.toLowerCase())),
    report: { usersCreated: 0, passwordsSet: 0, contactsAdded: 0, usersKept: 0, contactsKept: 0, problems: [] },
    known: new Map(),
    rosters: new Map(),
  };
  // Accounts first, so contacts can refer to users defined further down the file.
  for (const [n, rec] of records.entries()) {
    try {
      await importAccount(run, rec.fields);
    } catch (err) {
      run.report.problems.push(`line ${rec.line}: ${(err as Error).message}`);
    }
    o.onProgress?.(n + 1, records.length * 2);
  }
  for (const [n, rec] of records.entries()) {
    if (!run.at(rec.fields, "contact")) continue;
    try {
      await importContact(run, rec.fields);
    } catch (err) {
      run.report.problems.push(`line ${rec.line}: ${(err as Error).message}`);
    }
    o.onProgress?.(records.length + n + 1, records.length * 2);
  }
  if (!o.dryRun) for (const [jid, r] of run.rosters) await o.store.putItems(jid, [...r.values()]);
  o.onProgress?.(records.length * 2, records.length * 2);
  return run.report;
}

async function importAccount(run: Run, fields: string[]): Promise<void> {
  const { o, report } = run;
  const jid = bare(run.at(fields, "jid"));
  if (!run.hosted.has(jid.slice(jid.indexOf("@") + 1))) throw new Error(`${jid} is not at a hosted domain (${o.domains.join(", ")})`);
  const password = run.at(fields, "password");
  if (!password) {
    if (!run.at(fields, "contact") && !(await exists(run, jid))) throw new Error(`${jid} does not exist and the row gives no password`);
    return;
  }
  const had = await exists(run, jid);
  if (had && !o.updatePasswords) {
    report.usersKept++;
    return;
  }
  const problem = passwordProblem(password, o.minPasswordLength);
  if (problem) throw new Error(`${jid}: ${problem}`);
  if (!o.dryRun) await o.store.putUser({ jid, group: run.at(fields, "group") || (await o.store.getUser(jid))?.group, credentials: makeCredentials(password, o.iterations) });
  run.known.set(jid, true);
  if (had) report.passwordsSet++;
  else report.usersCreated++;
}

async function importContact(run: Run, fields: string[]): Promise<void> {
  const { o, report } = run;
  const jid = bare(run.at(fields, "jid"));
  const contact = bare(run.at(fields, "contact"));
  if (contact === jid) throw new Error("a user cannot be their own contact");
  if (!(await exists(run, jid))) throw new Error(`${jid} does not exist`);
  const internal = run.hosted.has(contact.slice(contact.indexOf("@") + 1));
  if (internal && !(await exists(run, contact))) throw new Error(`contact ${contact} does not exist`);
  const mine = await rosterOf(run, jid);
  const groups = run.at(fields, "roster_group") ? [run.at(fields, "roster_group")] : [];
  const current = mine.get(contact);
  const listed = !!current && !current.hidden;
  if (!listed && visible(mine) >= o.maxContacts) throw new Error(`${jid} would exceed the maximum of ${o.maxContacts} contacts`);
  const item: RosterItem = { ...(current ?? emptyItem(contact)), name: run.at(fields, "name") || current?.name, groups: [...new Set([...(current?.groups ?? []), ...groups])], hidden: false };
  let changed = !listed;
  if (internal) {
    const theirs = await rosterOf(run, contact);
    const back = theirs.get(jid);
    if ((!back || back.hidden) && visible(theirs) >= o.maxContacts) throw new Error(`${contact} would exceed the maximum of ${o.maxContacts} contacts`);
    if (!back || back.hidden || back.subscription !== "both" || current?.subscription !== "both") changed = true;
    theirs.set(jid, { ...(back ?? emptyItem(jid)), subscription: "both", ask: false, pendingIn: false, hidden: false });
    item.subscription = "both";
    item.ask = false;
    item.pendingIn = false;
  }
  mine.set(contact, item);
  if (changed) report.contactsAdded++;
  else report.contactsKept++;
}
