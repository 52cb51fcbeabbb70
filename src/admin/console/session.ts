/**
 * Console sessions. The browser holds a random 256-bit id in an HttpOnly,
 * Secure, SameSite=Strict cookie with the __Host- prefix (so no subdomain
 * and no plain-HTTP page can set or overwrite it); the server keeps only the
 * SHA-256 of that id, the account name and the CSRF token. Sessions live in
 * the gateway's memory: a restart logs everyone out, which is the safe side.
 * The role is not kept: it is read from the account on every request, so a
 * role change or a removed account takes effect at once.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "__Host-demarc_session";
export const LOGIN_COOKIE = "__Host-demarc_login";
/** Memory bound: beyond this many live sessions the oldest is ended. */
const MAX_SESSIONS = 10_000;

export interface ConsoleSession {
  name: string;
  csrf: string;
  createdAt: number;
  seenAt: number;
}

const digest = (id: string) => createHash("sha256").update(id).digest("base64url");

export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Compares digests, so the time taken says nothing about how much matched. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const d = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(d(a), d(b));
}

export class SessionStore {
  private readonly live = new Map<string, ConsoleSession>();

  constructor(private readonly limits: () => { idleMs: number; maxMs: number }, private readonly now: () => number = Date.now) {}

  create(name: string): { id: string; session: ConsoleSession } {
    if (this.live.size >= MAX_SESSIONS) this.live.delete(this.live.keys().next().value!);
    const id = randomToken();
    const at = this.now();
    const session = { name, csrf: randomToken(), createdAt: at, seenAt: at };
    this.live.set(digest(id), session);
    return { id, session };
  }

  /** The session for a cookie value, if it is live; touching it extends the idle limit. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const key = digest(id);
    const s = this.live.get(key);
    if (!s) return undefined;
    const { idleMs, maxMs } = this.limits();
    const at = this.now();
    if (at - s.seenAt > idleMs || at - s.createdAt > maxMs) {
      this.live.delete(key);
      return undefined;
    }
    s.seenAt = at;
    return s;
  }

  end(id: string | undefined): void {
    if (id) this.live.delete(digest(id));
  }

  /** Ends every session of an account (removed, or its password changed). */
  endAll(name: string): void {
    for (const [k, s] of this.live) if (s.name === name) this.live.delete(k);
  }
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    // The first of two same-named cookies wins, as browsers send the most specific first.
    if (!jar.has(k)) jar.set(k, part.slice(eq + 1).trim());
  }
  return jar;
}

export function cookie(name: string, value: string, maxAgeS?: number): string {
  return `${name}=${value}; Path=/; HttpOnly; Secure; SameSite=Strict${maxAgeS !== undefined ? `; Max-Age=${maxAgeS}` : ""}`;
}

/**
 * The page's security headers. No inline script or style is allowed
 * anywhere; htmx is served from our own origin; forms and requests may only
 * go back to us; no one may frame the console.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // Not no-referrer: under it browsers send "Origin: null" on our own form posts, which the origin check must refuse.
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};
