/**
 * Who may use which console route: every declared route is called with no
 * session and as a reviewer, an officer and an admin, and each answer must be
 * the one the route's role implies (login redirect or 401 without a session,
 * 403 below the role, anything else at or above it). Beside that: CSRF and
 * cross-site refusals on every change, the security headers and cookie
 * attributes, a role change and a removal taking effect at the next request,
 * and login lockout.
 * Loopback address: 127.0.36.10.
 */
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consolePlugin } from "../../../src/admin/console/plugin.js";
import { newTotpSecret, totpFor } from "../../../src/officers/login.js";
import type { ConsoleDeps } from "../../../src/admin/console/types.js";
import type { ExportJobs } from "../../../src/admin/console/exports.js";
import { consoleRoutes } from "../../../src/admin/console/routes.js";
import { SECURITY_HEADERS } from "../../../src/admin/console/session.js";
import { allows, article, ROLES, type Role } from "../../../src/officers/roles.js";
import { addOfficer, httpLogin, PASSWORD, startConsoleGateway, type ConsoleGateway, type HttpSession } from "./helpers.js";

let g: ConsoleGateway;
const sessions = new Map<Role, HttpSession>();
const ROUTES = consoleRoutes({} as ExportJobs);
const path = (url: string) => `/console${url.replace(":seq", "1").replace(":id", "1").replace(":name", "nobody")}`;

async function call(method: string, url: string, s?: HttpSession, opts: { csrf?: string | null; headers?: Record<string, string> } = {}): Promise<Response> {
  const csrf = opts.csrf === undefined ? s?.csrf : opts.csrf;
  return fetch(`${g.base}${url}`, {
    method,
    redirect: "manual",
    headers: {
      ...(s ? { cookie: s.cookie } : {}),
      ...(method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      ...opts.headers,
    },
    body: method === "POST" ? new URLSearchParams(csrf ? { _csrf: csrf } : {}).toString() : undefined,
  });
}

beforeAll(async () => {
  g = await startConsoleGateway("127.0.36.10");
  for (const role of ROLES) {
    await addOfficer(g.officers, `the-${role}`, role);
    sessions.set(role, await httpLogin(g.base, `the-${role}`));
  }
});

afterAll(async () => {
  await g?.close();
});

describe("console access, route by route", () => {
  it("declares a role on every route, and serves only assets and login without a session", async () => {
    expect(ROUTES.length).toBeGreaterThanOrEqual(20);
    for (const r of ROUTES) expect(ROLES).toContain(r.need);
    for (const r of ROUTES) {
      const res = await call(r.method, path(r.url));
      if (r.method === "GET") {
        expect([r.url, res.status, res.headers.get("location")]).toEqual([r.url, 303, `/console/login?next=${encodeURIComponent(path(r.url))}`]);
      } else {
        expect([r.url, res.status]).toEqual([r.url, 401]);
      }
    }
    for (const open of ["/console/login", "/console/assets/htmx.min.js", "/console/assets/console.css"]) expect((await call("GET", open)).status).toBe(200);
  });

  it("refuses to start with a console route that names no role", async () => {
    const app = Fastify();
    void app.register(async (inst) => {
      await consolePlugin(inst, { deps: {} as ConsoleDeps, jobs: { close() {} } as ExportJobs });
      inst.get("/forgotten", async () => "open to all?");
    }, { prefix: "/console" });
    await expect(app.ready()).rejects.toThrow("console route GET /console/forgotten declares no role: every console route must say who may use it");
    await app.close();
  });

  for (const role of ROLES) {
    it(`allows ${article(role)} exactly the routes of its role and below`, async () => {
      const s = sessions.get(role)!;
      // Logging out ends the session the other calls use: it goes last.
      const ordered = [...ROUTES.filter((r) => r.url !== "/logout"), ROUTES.find((r) => r.url === "/logout")!];
      const seen: string[] = [];
      for (const r of ordered) {
        const res = await call(r.method, path(r.url), s);
        const allowed = allows(role, r.need);
        const outcome = res.status === 401 ? "unauthenticated" : res.status === 403 ? "denied" : res.status >= 500 ? `failed ${res.status}` : "allowed";
        seen.push(`${r.method} ${r.url} ${outcome}`);
        expect(`${r.method} ${r.url} ${outcome}`).toBe(`${r.method} ${r.url} ${allowed ? "allowed" : "denied"}`);
      }
      expect(seen.filter((x) => x.endsWith("allowed")).length).toBe(ROUTES.filter((r) => allows(role, r.need)).length);
      sessions.set(role, await httpLogin(g.base, `the-${role}`));
    });
  }
});

describe("console protections", () => {
  it("refuses a filter that is not valid with a 400 and its reason, on the search and the export alike", async () => {
    const s = sessions.get("reviewer")!;
    const search = await call("GET", "/console/search?since=not-a-date", s);
    expect(search.status).toBe(400);
    const page = await search.text();
    expect(page).toContain("from &quot;not-a-date&quot; is not a date or time");
    expect(page).toContain('action="/console/search"');
    const exp = await fetch(`${g.base}/console/export`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: s.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: s.csrf, format: "csv", verdict: "maybe" }).toString(),
    });
    expect(exp.status).toBe(400);
    expect(await exp.text()).toContain("verdict must be one of allow, block, quarantine, released");
  });

  it("refuses every change without the session's CSRF token or from another site, and audits it", async () => {
    const admin = sessions.get("admin")!;
    for (const r of ROUTES.filter((x) => x.method === "POST")) {
      expect([r.url, (await call("POST", path(r.url), admin, { csrf: null })).status]).toEqual([r.url, 403]);
      expect([r.url, (await call("POST", path(r.url), admin, { csrf: sessions.get("reviewer")!.csrf })).status]).toEqual([r.url, 403]);
      expect([r.url, (await call("POST", path(r.url), admin, { headers: { origin: "http://evil.test" } })).status]).toEqual([r.url, 403]);
      expect([r.url, (await call("POST", path(r.url), admin, { headers: { "sec-fetch-site": "cross-site" } })).status]).toEqual([r.url, 403]);
    }
    const audit = await g.store.auditLog(1000);
    expect(audit.filter((e) => e.actor === "the-admin" && e.action === "console-csrf-refused").length).toBe(4 * ROUTES.filter((x) => x.method === "POST").length);
  });

  it("sends the strict headers on every answer and a locked-down session cookie", async () => {
    for (const url of ["/console/login", "/console/search", "/console/assets/htmx.min.js", "/console/nowhere"]) {
      const res = await call("GET", url, sessions.get("admin"));
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect([url, k, res.headers.get(k)]).toEqual([url, k, v]);
    }
    expect(SECURITY_HEADERS["content-security-policy"]).not.toMatch(/unsafe-inline|unsafe-eval/);
    const form = await fetch(`${g.base}/console/login`);
    const token = /name="_login" value="([^"]*)"/.exec(await form.text())![1]!;
    const res = await fetch(`${g.base}/console/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: form.headers.getSetCookie()[0]!.split(";")[0]! },
      body: new URLSearchParams({ _login: token, name: "the-reviewer", password: PASSWORD, next: "https://evil.test/" }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/search");
    const set = res.headers.getSetCookie().find((c) => c.startsWith("__Host-demarc_session="))!;
    expect(set).toMatch(/^__Host-demarc_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  });

  it("refuses a login form that has no matching token cookie", async () => {
    const res = await fetch(`${g.base}/console/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _login: "forged", name: "the-admin", password: PASSWORD }).toString(),
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().some((c) => c.startsWith("__Host-demarc_session="))).toBe(false);
  });

  it("applies a role change and a removal at the very next request", async () => {
    await addOfficer(g.officers, "temp", "officer");
    const s = await httpLogin(g.base, "temp");
    expect((await call("GET", "/console/holds", s)).status).toBe(200);
    await g.officers.setRole("temp", "reviewer");
    expect((await call("GET", "/console/holds", s)).status).toBe(403);
    expect((await call("GET", "/console/search", s)).status).toBe(200);
    const admin = sessions.get("admin")!;
    const removed = await call("POST", "/console/officers/temp/remove", admin);
    expect(removed.status).toBe(200);
    expect((await call("GET", "/console/search", s)).status).toBe(303);
  });

  it("asks for the TOTP code after the password, and takes a code once", async () => {
    const secret = newTotpSecret();
    await addOfficer(g.officers, "tess", "reviewer", secret);
    const post = async (fields: Record<string, string>) => {
      const form = await fetch(`${g.base}/console/login`);
      const token = /name="_login" value="([^"]*)"/.exec(await form.text())![1]!;
      return fetch(`${g.base}/console/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: form.headers.getSetCookie()[0]!.split(";")[0]! },
        body: new URLSearchParams({ _login: token, name: "tess", password: PASSWORD, ...fields }).toString(),
      });
    };
    const first = await post({});
    expect(first.status).toBe(200);
    expect(await first.text()).toContain("Code from your authenticator app");
    expect(first.headers.getSetCookie().some((c) => c.startsWith("__Host-demarc_session="))).toBe(false);
    const code = totpFor("tess", secret).generate();
    expect((await post({ code })).status).toBe(303);
    expect((await post({ code })).status).toBe(401);
  });

  it("locks an account after repeated failures, through the login form", async () => {
    await addOfficer(g.officers, "target", "reviewer");
    const attempt = async (password: string) => {
      const form = await fetch(`${g.base}/console/login`);
      const token = /name="_login" value="([^"]*)"/.exec(await form.text())![1]!;
      return fetch(`${g.base}/console/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: form.headers.getSetCookie()[0]!.split(";")[0]! },
        body: new URLSearchParams({ _login: token, name: "target", password }).toString(),
      });
    };
    expect((await attempt("wrong password one")).status).toBe(401);
    // Within the back-off even the right password is turned away.
    const early = await attempt(PASSWORD);
    expect(early.status).toBe(429);
    expect(await early.text()).toContain("too many failed attempts");
    const audit = await g.store.auditLog(50);
    expect(audit.find((e) => e.action === "console-login-failed")).toMatchObject({ actor: "-", query: '{"name":"target"}' });
  });
});
