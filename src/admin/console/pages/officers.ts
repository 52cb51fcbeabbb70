/**
 * Accounts (admin): the console's people and roles, as `demarc officers`
 * manages them; add, change a role, remove. A role change applies at the
 * account's next request; a removal ends its sessions at once. An admin
 * cannot remove or demote themselves, so the console always keeps one.
 */
import { hashPassword, passwordProblem } from "../../../officers/password.js";
import { isRole, ROLES } from "../../../officers/roles.js";
import { nameProblem, normalName } from "../../../officers/store.js";
import { html, seg, type SafeHtml } from "../html.js";
import { errorBox, time } from "../layout.js";
import { notice } from "../notice.js";
import { fields, type ConsoleRoute, type Page } from "../types.js";

const roleSelect = (current?: string) => html`<select name="role">${ROLES.map((r) => html`<option value="${r}"${r === current ? html` selected` : ""}>${r}</option>`)}</select>`;

async function list(p: Page, message?: SafeHtml): Promise<SafeHtml> {
  const rows = await p.deps.officers.list();
  const csrf = html`<input type="hidden" name="_csrf" value="${p.session.csrf}">`;
  const token = p.deps.config().admin.token_account;
  return p.render(
    "Accounts",
    html`${message ?? ""}<form class="stack" method="post" action="/console/officers">${csrf}
<label>Name <input name="name" required maxlength="64"></label><label>Role ${roleSelect("reviewer")}</label>
<label>Password (12 characters or more) <input name="password" type="password" autocomplete="new-password" required minlength="12"></label>
<button type="submit">Add account</button></form>
<table id="officers"><tr><th>Name</th><th>Role</th><th>Second factor</th><th>Last login</th><th>State</th><th>Change</th></tr>
${rows.map((o) => html`<tr data-name="${o.name}"><td>${o.name}</td><td>${o.role}</td><td>${o.totpSecret ? "TOTP" : html`<span class="muted">none</span>`}</td><td>${time(o.lastLoginAt)}</td>
<td>${o.lockedUntil && o.lockedUntil > Date.now() ? html`<span class="error">locked until</span> ${time(o.lockedUntil)}` : `${o.failures} failed attempt(s)`}</td>
<td>${o.name === p.who.name ? html`<span class="muted">you</span>` : html`<form method="post" action="${`/console/officers/${seg(o.name)}/role`}">${csrf}${roleSelect(o.role)} <button type="submit" class="secondary">Set role</button></form>
<form method="post" action="${`/console/officers/${seg(o.name)}/remove`}">${csrf}<button type="submit" class="danger">Remove</button></form>`}</td></tr>`)}
<tr><td>${token.name}</td><td>${token.role}</td><td colspan="4"><span class="muted">service account of admin.token (set in the config)</span></td></tr></table>
<p class="muted">Passwords, TOTP and unlocking: <code>demarc officers passwd NAME [--totp]</code>.</p>`,
  );
}

export const officerRoutes: ConsoleRoute[] = [
  { method: "GET", url: "/officers", need: "admin", handler: async (_req, _reply, p) => list(p) },
  {
    method: "POST",
    url: "/officers",
    need: "admin",
    async handler(req, reply, p) {
      const f = fields(req.body);
      const name = normalName(f.name ?? "");
      const problem = nameProblem(name) ?? (isRole(f.role ?? "") ? undefined : "choose a role") ?? passwordProblem(f.password ?? "");
      if (problem) {
        reply.code(400);
        return list(p, errorBox(problem));
      }
      const added = await p.deps.officers.add({ name, role: f.role as (typeof ROLES)[number], kind: "person", passwordHash: await hashPassword(f.password!), totpSecret: null });
      if (!added) {
        reply.code(409);
        return list(p, errorBox(`account "${name}" exists already`));
      }
      await p.audit("officer-add", { name, role: f.role, totp: false }, null);
      return list(p, notice(`added ${name} (${f.role})`));
    },
  },
  {
    method: "POST",
    url: "/officers/:name/role",
    need: "admin",
    async handler(req, reply, p) {
      const name = normalName((req.params as { name: string }).name);
      const role = fields(req.body).role ?? "";
      if (!isRole(role) || name === p.who.name) {
        reply.code(400);
        return list(p, errorBox(name === p.who.name ? "you cannot change your own role" : "choose a role"));
      }
      if (!(await p.deps.officers.setRole(name, role))) {
        reply.code(404);
        return list(p, errorBox(`no account "${name}"`));
      }
      await p.audit("officer-role", { name, role }, null);
      return list(p, notice(`${name} is now ${role}`));
    },
  },
  {
    method: "POST",
    url: "/officers/:name/remove",
    need: "admin",
    async handler(req, reply, p) {
      const name = normalName((req.params as { name: string }).name);
      if (name === p.who.name) {
        reply.code(400);
        return list(p, errorBox("you cannot remove your own account"));
      }
      if (!(await p.deps.officers.remove(name))) {
        reply.code(404);
        return list(p, errorBox(`no account "${name}"`));
      }
      p.deps.sessions.endAll(name);
      await p.audit("officer-remove", { name }, null);
      return list(p, notice(`removed ${name}`));
    },
  },
];
