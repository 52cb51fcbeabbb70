/**
 * Logging in. The form carries a token that must match a cookie set with it
 * (login CSRF: another site cannot log a browser into an account of its
 * choosing), the password is checked with back-off and lockout
 * (src/officers/login.ts), then a TOTP code when the account has one. A
 * fresh session id is issued at every login (no fixation), and every attempt
 * is audited; a failed one under "-", as the name typed proves nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { login } from "../../../officers/login.js";
import { html } from "../html.js";
import { errorBox, page } from "../layout.js";
import { cookie, LOGIN_COOKIE, parseCookies, randomToken, sameToken, SESSION_COOKIE } from "../session.js";
import { fields, type ConsoleDeps } from "../types.js";

function safeNext(next: string | undefined): string {
  return next && /^\/console\/[^/\\]/.test(next) && !next.startsWith("/console/login") ? next : "/console/search";
}

function form(reply: FastifyReply, opts: { next?: string | undefined; name?: string; error?: string; needCode?: boolean }) {
  const token = randomToken();
  reply.header("set-cookie", cookie(LOGIN_COOKIE, token, 600));
  const body = html`<form class="login" method="post" action="/console/login">
${opts.error ? errorBox(opts.error) : ""}
<input type="hidden" name="_login" value="${token}"><input type="hidden" name="next" value="${safeNext(opts.next)}">
<label>Name <input name="name" autocomplete="username" required value="${opts.name ?? ""}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
${opts.needCode ? html`<label>Code from your authenticator app <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required autofocus></label>` : ""}
<button type="submit">Log in</button></form>`;
  return reply.type("text/html; charset=utf-8").send(page("Log in", undefined, undefined, body).text);
}

export function loginRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const audit = (actor: string, action: string, query: unknown) => deps.store.audit({ at: Date.now(), actor, action, query: JSON.stringify(query), result: null });
  const pub = { config: { consoleNeed: "public" } };

  app.get("/login", pub, async (req: FastifyRequest, reply) => form(reply, { next: fields(req.query).next }));

  app.post("/login", pub, async (req: FastifyRequest, reply) => {
    const f = fields(req.body);
    const name = (f.name ?? "").trim().slice(0, 64);
    const site = req.headers["sec-fetch-site"];
    if (!sameToken(parseCookies(req.headers.cookie).get(LOGIN_COOKIE), f._login ?? "") || (site !== undefined && site !== "same-origin")) {
      reply.code(403);
      return form(reply, { next: f.next, name, error: "the login form expired or came from another site; try again" });
    }
    const { lock_after, lock_minutes } = deps.config().admin.console;
    const r = await login(deps.officers, { lockAfter: lock_after, lockMinutes: lock_minutes }, { name, password: f.password ?? "", code: f.code });
    if (!r.ok) {
      if (r.reason === "need-code") return form(reply, { next: f.next, name, needCode: true });
      await audit("-", r.reason === "locked" ? "console-login-locked" : "console-login-failed", { name });
      reply.code(r.reason === "locked" ? 429 : 401);
      const error = r.reason === "locked"
        ? `too many failed attempts: this account takes no login until ${new Date(r.retryAt ?? Date.now()).toISOString()}`
        : "wrong name, password or code";
      return form(reply, { next: f.next, name, error, needCode: !!f.code });
    }
    const { id } = deps.sessions.create(r.principal.name);
    await audit(r.principal.name, "console-login", { role: r.principal.role });
    return reply
      .code(303)
      .header("set-cookie", [cookie(SESSION_COOKIE, id), cookie(LOGIN_COOKIE, "", 0)])
      .header("location", safeNext(f.next))
      .send();
  });
}
