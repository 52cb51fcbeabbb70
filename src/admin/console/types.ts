/** What console pages are given, and how a page declares its route and the role it needs. */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { LoadedConfig } from "../../config/load.js";
import type { Logger } from "../../log.js";
import type { Db } from "../../archive/db.js";
import type { QuarantineDesk } from "../../archive/quarantine.js";
import type { ArchiveStore } from "../../archive/store.js";
import type { PolicySet } from "../../pipeline/policy/compile.js";
import type { Principal, Role } from "../../officers/roles.js";
import type { OfficerStore } from "../../officers/store.js";
import type { Resolver } from "../../edge/dns/resolver.js";
import type { PartnerHealth } from "../../edge/xmpp/health.js";
import type { SafeHtml } from "./html.js";
import type { ConsoleSession, SessionStore } from "./session.js";

export interface ConsoleDeps {
  config: () => LoadedConfig;
  db: Db;
  store: ArchiveStore;
  /** Absent when the archive module is not running. */
  desk: QuarantineDesk | undefined;
  officers: OfficerStore;
  sessions: SessionStore;
  policy: () => PolicySet | undefined;
  resolver: () => Resolver | undefined;
  partners: PartnerHealth | undefined;
  log: Logger;
}

/** A request that passed the route's role check. */
export interface Page {
  deps: ConsoleDeps;
  who: Principal;
  session: ConsoleSession;
  /** Writes the archive audit trail under the logged-in name. */
  audit(action: string, query: unknown, result: number | null): Promise<void>;
  /** Renders a full page with the console's layout. */
  render(title: string, body: SafeHtml): SafeHtml;
}

export type Handler = (req: FastifyRequest, reply: FastifyReply, page: Page) => Promise<SafeHtml | FastifyReply | void>;

export interface ConsoleRoute {
  method: "GET" | "POST";
  /** Under /console. */
  url: string;
  /** The least role that may use it. Every route names one: there is no default. */
  need: Role;
  handler: Handler;
}

/** A parsed form or query: single values only. */
export type Fields = Record<string, string | undefined>;

export function fields(v: unknown): Fields {
  const out: Fields = {};
  if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}
