/**
 * The review console as an encapsulated fastify plugin (mounted at /console):
 * its hooks, parsers and error pages stay inside it.
 *
 * Deny by default: every route must be declared with the least role it needs
 * (ConsoleRoute.need); a route added without one makes start-up fail. Before
 * any handler runs, the session cookie must name a live session of an
 * existing account whose current role is enough, and every POST must carry
 * that session's CSRF token (form field _csrf or the X-CSRF-Token header htmx
 * sends) and, when the browser says where it comes from, come from this
 * origin. Login and the static assets are the only public routes.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { allows, article, type Principal } from "../../officers/roles.js";
import { CSS, htmxSource, ICON } from "./assets.js";
import type { SafeHtml } from "./html.js";
import { errorBox, page } from "./layout.js";
import { loginRoutes } from "./pages/login.js";
import { consoleRoutes } from "./routes.js";
import type { ExportJobs } from "./exports.js";
import { parseCookies, SECURITY_HEADERS, SESSION_COOKIE, sameToken, type ConsoleSession } from "./session.js";
import { fields, type ConsoleDeps, type ConsoleRoute, type Page } from "./types.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Set on every console route: the least role, or "public". */
    consoleNeed?: string;
  }
}

function isSameOrigin(req: FastifyRequest): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function deny(req: FastifyRequest, reply: FastifyReply, code: 401 | 403, message: string): FastifyReply {
  reply.code(code).type("text/html; charset=utf-8");
  if (code === 401 && req.method === "GET" && !req.headers["hx-request"]) {
    return reply.code(303).header("location", `/console/login?next=${encodeURIComponent(req.url)}`).send();
  }
  return reply.send(page(code === 401 ? "Log in first" : "Not allowed", undefined, undefined, errorBox(message)).text);
}

async function authorize(deps: ConsoleDeps, req: FastifyRequest, reply: FastifyReply, route: ConsoleRoute): Promise<Page | undefined> {
  const sid = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
  const session = deps.sessions.get(sid);
  const account = session ? await deps.officers.get(session.name) : undefined;
  if (!session || !account || account.kind !== "person") {
    if (session) deps.sessions.end(sid);
    deny(req, reply, 401, "your session has ended; log in again");
    return undefined;
  }
  const who: Principal = { name: account.name, role: account.role, kind: "person" };
  if (req.method !== "GET") {
    const token = (req.headers["x-csrf-token"] as string | undefined) ?? fields(req.body)._csrf;
    if (!isSameOrigin(req) || !sameToken(token, session.csrf)) {
      await audit(deps, who.name, "console-csrf-refused", { method: req.method, url: req.url }, null);
      deny(req, reply, 403, "this form is out of date or came from another site; reload the page and try again");
      return undefined;
    }
  }
  if (!allows(who.role, route.need)) {
    await audit(deps, who.name, "console-denied", { method: req.method, url: req.routeOptions.url, need: route.need }, null);
    deny(req, reply, 403, `${who.name} is ${article(who.role)}; this page needs the ${route.need} role`);
    return undefined;
  }
  return pageFor(deps, who, session);
}

function audit(deps: ConsoleDeps, actor: string, action: string, query: unknown, result: number | null): Promise<void> {
  return deps.store.audit({ at: Date.now(), actor, action, query: query === null ? null : JSON.stringify(query), result });
}

function pageFor(deps: ConsoleDeps, who: Principal, session: ConsoleSession): Page {
  return {
    deps,
    who,
    session,
    audit: (action, query, result) => audit(deps, who.name, action, query, result),
    render: (title: string, body: SafeHtml) => page(title, who, session.csrf, body),
  };
}

function register(app: FastifyInstance, deps: ConsoleDeps, route: ConsoleRoute): void {
  app.route({
    method: route.method,
    url: route.url,
    config: { consoleNeed: route.need },
    handler: async (req, reply) => {
      const p = await authorize(deps, req, reply, route);
      if (!p) return reply;
      const out = await route.handler(req, reply, p);
      if (reply.sent) return reply;
      if (out && typeof out === "object" && "text" in out) return reply.type("text/html; charset=utf-8").send(out.text);
      return out ?? reply;
    },
  });
}

export const consolePlugin: FastifyPluginAsync<{ deps: ConsoleDeps; jobs: ExportJobs }> = async (app, { deps, jobs }) => {
  const htmx = htmxSource();
  app.addHook("onRoute", (r) => {
    if (!r.config?.consoleNeed) throw new Error(`console route ${r.method} ${r.url} declares no role: every console route must say who may use it`);
  });
  app.addHook("onSend", async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    return payload;
  });
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 64 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).type("text/html; charset=utf-8").send(page("Not found", undefined, undefined, errorBox(`no console page ${req.method} ${req.url.split("?")[0]}`)).text));
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) deps.log.error({ err: err.message, url: req.url }, "console page failed");
    const message = status === 500 ? "the console could not do that; the gateway log has the details" : err.message;
    return reply.code(status).type("text/html; charset=utf-8").send(page("Something went wrong", undefined, undefined, errorBox(message)).text);
  });

  const asset = (url: string, type: string, body: string | Buffer) =>
    app.get(url, { config: { consoleNeed: "public" } }, async (_req, reply) => reply.type(type).header("cache-control", "no-cache").send(body));
  asset("/assets/console.css", "text/css; charset=utf-8", CSS);
  asset("/assets/htmx.min.js", "text/javascript; charset=utf-8", htmx);
  asset("/assets/icon.svg", "image/svg+xml", ICON);
  loginRoutes(app, deps);
  app.get("/", { config: { consoleNeed: "public" } }, async (_req, reply) => reply.code(303).header("location", "/console/search").send());
  for (const r of consoleRoutes(jobs)) register(app, deps, r);
  app.addHook("onClose", async () => jobs.close());
};

