/**
 * admin.token: the APIs (quarantine release, presence sources) need the bearer
 * token; health and metrics stay open for probes and scrapers.
 * Loopback address: 127.0.14.4.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminModule } from "../../src/admin/server.js";
import { adminCall } from "../../src/cli/admin-api.js";
import type { LoadedConfig } from "../../src/config/load.js";
import { startBench, type Bench } from "../access/c2s/helpers.js";

const ADDRESS = "127.0.14.4";
const TOKEN = "correct horse battery staple";
const admin = adminModule();
let b: Bench;
let base = "";

beforeAll(async () => {
  b = await startBench(ADDRESS, { admin: { enabled: true, host: ADDRESS, port: 0, token: TOKEN } }, { modules: { after: [admin] } });
  await b.addUser("alice");
  base = `http://${ADDRESS}:${admin.address!.port}`;
});
afterAll(async () => {
  await b?.close();
});

const get = (path: string, authorization?: string) => fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });

describe("admin.token", () => {
  it("refuses the API without the token or with a wrong one, with 401 and the scheme to use", async () => {
    for (const auth of [undefined, "Bearer wrong", `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`, `Bearer ${TOKEN}x`]) {
      const res = await get("/api/presence/alice@corp.test", auth);
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="demarc admin"');
      expect(await res.json()).toEqual({ error: "admin API: missing or wrong bearer token (admin.token)" });
    }
  });

  it("refuses the percent-encoded spelling the router decodes to the same API (once a bypass)", async () => {
    const res = await get("/%61pi/presence/alice@corp.test");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "admin API: missing or wrong bearer token (admin.token)" });
    expect((await get("/%61pi/presence/alice@corp.test", `Bearer ${TOKEN}`)).status).toBe(200);
  });

  it("answers the holder of the token", async () => {
    const res = await get("/api/presence/alice@corp.test", `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ jid: "alice@corp.test", presence: { state: "offline" } });
  });

  it("keeps health, readiness and metrics open", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics"]) expect((await get(path)).status, path).toBe(200);
  });

  it("the CLI's calls carry the token from the config", async () => {
    const cfg = b.gateway.context.config as LoadedConfig;
    const at = { ...cfg, admin: { ...cfg.admin, port: admin.address!.port } };
    expect((await adminCall(at, "GET", "/api/presence/alice@corp.test")).status).toBe(200);
    expect((await adminCall({ ...at, admin: { ...at.admin, token: "" } }, "GET", "/api/presence/alice@corp.test")).status).toBe(401);
  });
});
