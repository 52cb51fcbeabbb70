/**
 * Who an admin API request acts for. The API token (admin.token) is the
 * credential of one named service account (admin.token_account), so what a
 * script does is audited under that name and limited to that role, like a
 * person's session in the console. No one can name themselves in a request.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { bearerMatches } from "./api-auth.js";
import type { LoadedConfig } from "../config/load.js";
import { allows, article, type Principal, type Role } from "../officers/roles.js";

export function apiPrincipal(config: () => LoadedConfig, req: FastifyRequest): Principal | undefined {
  const { token, token_account } = config().admin;
  if (!token || !bearerMatches(req.headers.authorization, token)) return undefined;
  return { name: token_account.name, role: token_account.role, kind: "service" };
}

/**
 * The principal when it holds `need`; otherwise the reply is sent (401 without
 * a credential, 403 with too small a role) and undefined comes back.
 */
export function requireRole(principal: Principal | undefined, need: Role, reply: FastifyReply): Principal | undefined {
  if (!principal) {
    void reply
      .code(401)
      .header("www-authenticate", 'Bearer realm="demarc admin"')
      .send({ error: "this API acts for a named account: set admin.token and send it as a bearer token (it acts as admin.token_account), or decide in the review console at /console/" });
    return undefined;
  }
  if (!allows(principal.role, need)) {
    void reply.code(403).send({ error: `${principal.name} is ${article(principal.role)}; this needs the ${need} role` });
    return undefined;
  }
  return principal;
}
