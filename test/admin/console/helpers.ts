/**
 * Review console test helpers: a gateway with compliance, archive and the
 * admin server (the console) on a loopback address of the test's own; console
 * accounts made through the real store; logging in over HTTP the way a
 * browser does (login-form token, session cookie, CSRF token); and headless
 * Chromium (Debian's package) through playwright-core, writing screenshots to
 * .tmp/screenshots.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { adminModule } from "../../../src/admin/server.js";
import { archiveModule } from "../../../src/archive/module.js";
import type { ArchiveStore } from "../../../src/archive/store.js";
import type { Gateway } from "../../../src/gateway/gateway.js";
import { hashPassword } from "../../../src/officers/password.js";
import type { Role } from "../../../src/officers/roles.js";
import { OfficerStore } from "../../../src/officers/store.js";
import { complianceModule } from "../../../src/pipeline/module.js";
import { gatewayDir, startGateway } from "../../helpers/gateway.js";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const SHOTS = join(ROOT, ".tmp", "screenshots");
export const PASSWORD = "correct horse battery staple";

export interface ConsoleGateway {
  base: string;
  dir: string;
  gateway: Gateway;
  store: ArchiveStore;
  officers: OfficerStore;
  close(): Promise<void>;
}

export async function startConsoleGateway(address: string, extra: Record<string, unknown> = {}): Promise<ConsoleGateway> {
  const dir = gatewayDir("demarc-console-");
  const policyDir = join(dir, "policies");
  mkdirSync(policyDir);
  for (const [name, text] of Object.entries((extra.policyFiles as Record<string, string>) ?? {})) writeFileSync(join(policyDir, name), text);
  const compliance = complianceModule();
  const archive = archiveModule();
  const admin = adminModule({ console: { archive: () => archive.service, desk: () => archive.desk, compliance: () => compliance.pipeline } });
  const { gateway, ctx } = await startGateway({
    dir,
    settings: {
      domains: ["corp.test"],
      data_dir: dir,
      log: { level: "silent", format: "json" },
      archive: { url: "sqlite:archive.db", journal: { commit_delay_ms: 1 } },
      policy: { dir: policyDir, watch: false },
      admin: { enabled: true, host: address, port: 0 },
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "policyFiles")),
    },
    modules: [compliance, archive, admin],
  });
  return {
    base: `http://${address}:${admin.address!.port}`,
    dir,
    gateway,
    store: archive.service!.store,
    officers: new OfficerStore(ctx.db),
    async close() {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function addOfficer(officers: OfficerStore, name: string, role: Role, totpSecret: string | null = null): Promise<void> {
  if (!(await officers.add({ name, role, kind: "person", passwordHash: await hashPassword(PASSWORD), totpSecret }))) throw new Error(`${name} exists`);
}

export interface HttpSession {
  cookie: string;
  csrf: string;
}

const hidden = (page: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1];
const cookieOf = (res: Response, name: string) => res.headers.getSetCookie().map((c) => c.split(";")[0]!).find((c) => c.startsWith(`${name}=`));

/** Logs in as a browser would: the form's token with its cookie, then the session cookie and the page's CSRF token. */
export async function httpLogin(base: string, name: string, password = PASSWORD): Promise<HttpSession> {
  const form = await fetch(`${base}/console/login`);
  const token = hidden(await form.text(), "_login")!;
  const res = await fetch(`${base}/console/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookieOf(form, "__Host-demarc_login")! },
    body: new URLSearchParams({ _login: token, name, password, next: "/console/search" }).toString(),
  });
  if (res.status !== 303) throw new Error(`login as ${name}: ${res.status} ${await res.text()}`);
  const cookie = cookieOf(res, "__Host-demarc_session")!;
  const page = await (await fetch(`${base}/console/search`, { headers: { cookie } })).text();
  const csrf = /hx-headers="\{&quot;x-csrf-token&quot;:&quot;([^&]+)&quot;\}"/.exec(page)?.[1];
  if (!csrf) throw new Error("no CSRF token on the search page");
  return { cookie, csrf };
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** Fills the login form in the page and waits for the page it leads to. */
export async function browserLogin(page: Page, base: string, name: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/console/login`);
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith("/login")), page.click('button[type="submit"]')]);
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
