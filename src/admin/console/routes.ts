/** Every console route with the least role it needs, in one list: what the plugin registers and the access test walks. */
import type { ExportJobs } from "./exports.js";
import { cookie, parseCookies, SESSION_COOKIE } from "./session.js";
import type { ConsoleRoute } from "./types.js";
import { auditRoutes } from "./pages/audit.js";
import { conversationRoutes } from "./pages/conversation.js";
import { exportRoutes } from "./pages/export.js";
import { holdRoutes } from "./pages/holds.js";
import { officerRoutes } from "./pages/officers.js";
import { partnerRoutes } from "./pages/partners.js";
import { policyRoutes } from "./pages/policy.js";
import { quarantineRoutes } from "./pages/quarantine.js";
import { recordRoutes } from "./pages/record.js";
import { retentionRoutes } from "./pages/retention.js";
import { searchRoutes } from "./pages/search.js";

const logout: ConsoleRoute = {
  method: "POST",
  url: "/logout",
  need: "reviewer",
  async handler(req, reply, p) {
    p.deps.sessions.end(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    await p.audit("console-logout", null, null);
    return reply.code(303).header("set-cookie", cookie(SESSION_COOKIE, "", 0)).header("location", "/console/login").send();
  },
};

export function consoleRoutes(jobs: ExportJobs): ConsoleRoute[] {
  return [
    ...searchRoutes,
    ...conversationRoutes,
    ...recordRoutes,
    ...exportRoutes(jobs),
    ...quarantineRoutes,
    ...holdRoutes,
    ...auditRoutes,
    ...policyRoutes,
    ...partnerRoutes,
    ...officerRoutes,
    ...retentionRoutes,
    logout,
  ];
}
