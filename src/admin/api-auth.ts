/**
 * Bearer-token authentication of the admin API, deny by default.
 *
 * The check runs as an onRequest hook inside an encapsulated plugin mounted at
 * /api: Fastify runs it for every route the router matched in that scope, on
 * the path it decoded and matched, so percent-encoding (/%61pi), an
 * absolute-form request line (GET http://x/api/...) or any later route added
 * under /api cannot step around it. A check on the raw req.url cannot know
 * how the router will read the same bytes.
 *
 * A second hook on the root instance covers a route someone registers under
 * /api outside this scope: any matched route whose pattern starts with /api
 * (any case) and that did not come through the scope is refused too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createHash, timingSafeEqual } from "node:crypto";

export const API_PREFIX = "/api";
const SCOPE_MARK = "demarcAdminApi";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Set on every route registered through the /api scope. */
    demarcAdminApi?: boolean;
  }
}

/** Compares digests, so the time taken says nothing about how much of the token was right. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/i.exec(header ?? "");
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

/** The token is read per request, so a SIGHUP reload that changes it applies at once. */
export type TokenSource = () => string;

function deny(reply: FastifyReply) {
  return reply.code(401).header("www-authenticate", 'Bearer realm="demarc admin"').send({ error: "admin API: missing or wrong bearer token (admin.token)" });
}

function authenticate(token: TokenSource) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const t = token();
    // No token configured: the API is open to whoever reaches the (loopback by default) address.
    if (!t) return;
    if (!bearerMatches(req.headers.authorization, t)) return deny(reply);
  };
}

function underApi(routePattern: string | undefined): boolean {
  if (!routePattern) return false;
  const p = routePattern.toLowerCase().replace(/\/{2,}/g, "/");
  return p === API_PREFIX || p.startsWith(`${API_PREFIX}/`);
}

/**
 * Mounts the authenticated /api scope on the admin server; `register` adds
 * routes to it (their prefixes are relative to /api).
 */
export async function registerApiScope(app: FastifyInstance, token: TokenSource, register: ((api: FastifyInstance) => void)[]): Promise<void> {
  const auth = authenticate(token);
  app.addHook("onRequest", async (req, reply) => {
    if (underApi(req.routeOptions.url) && !req.routeOptions.config?.[SCOPE_MARK]) return auth(req, reply);
  });
  await app.register(
    async (api) => {
      api.addHook("onRoute", (route) => {
        route.config = { ...(route.config as object | undefined), [SCOPE_MARK]: true };
      });
      api.addHook("onRequest", auth);
      for (const add of register) add(api);
    },
    { prefix: API_PREFIX },
  );
}
