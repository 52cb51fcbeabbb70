/**
 * The admin API's token check holds however the request line spells /api:
 * percent-encoded, absolute-form, dot segments, doubled slashes, other case,
 * for listing and for releasing held messages, and for a route a later part
 * adds. Requests go as raw bytes over a real socket so nothing normalises the
 * path before the server sees it (as curl --path-as-is would send it).
 * The server binds 127.0.0.1 on port 0.
 */
import { connect } from "node:net";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { adminModule } from "../../src/admin/server.js";
import { quarantineRoutes } from "../../src/admin/quarantine.js";
import type { QuarantineDesk } from "../../src/archive/quarantine.js";
import { apiPrincipal } from "../../src/admin/principal.js";
import type { LoadedConfig } from "../../src/config/load.js";
import type { GatewayContext } from "../../src/module.js";

const TOKEN = "correct horse battery staple";
const calls: string[] = [];
// The desk records what reached it: a refused request must never get this far.
const desk = {
  async pending() {
    calls.push("pending");
    return [];
  },
  async release() {
    calls.push("release");
    return { status: "unknown", message: "no such record" };
  },
  async reject() {
    calls.push("reject");
    return { status: "unknown", message: "no such record" };
  },
} as unknown as QuarantineDesk;

const admin = adminModule();
let port = 0;

const config = {
  admin: { enabled: true, host: "127.0.0.1", port: 0, token: TOKEN, token_account: { name: "automation", role: "officer" }, console: { enabled: false } },
} as unknown as LoadedConfig;
const principal = (req: Parameters<typeof apiPrincipal>[1]) => apiPrincipal(() => config, req);

function context(): GatewayContext {
  return {
    config,
    log: pino({ level: "silent" }),
    metrics: new Registry(),
    readiness: new Map(),
    adminRoutes: [
      // A route added at the root under /api by mistake is covered too.
      (app: FastifyInstance) => void app.get("/api/stray", async () => ({ secret: true })),
    ],
    adminApiRoutes: [
      (api: FastifyInstance) => void api.register(quarantineRoutes, { prefix: "/quarantine", desk, principal, fourEyes: () => false, log: pino({ level: "silent" }) }),
      (api: FastifyInstance) => void api.get("/later", async () => ({ secret: true })),
    ],
  } as unknown as GatewayContext;
}

beforeAll(async () => {
  await admin.start(context());
  port = admin.address!.port;
});
afterAll(async () => {
  await admin.stop(0);
});

/** Sends one request exactly as written and returns the status code. */
function raw(requestLine: string, headers: string[] = [], body = ""): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    let data = "";
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`no answer to ${requestLine}`))), 5_000);
    sock.on("data", (d) => {
      data += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        clearTimeout(timer);
        sock.destroy();
        resolve(Number(m[1]));
      }
    });
    sock.on("error", (e) => (clearTimeout(timer), reject(e)));
    const lines = [requestLine, "Host: 127.0.0.1", "Connection: close", ...headers];
    if (body) lines.push("Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`);
    sock.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
  });
}

const LISTS = [
  "/api/quarantine",
  "/%61pi/quarantine",
  "/%61%70%69/%71uarantine",
  "/api%2Fquarantine",
  "http://x/api/quarantine",
  "http://x/%61pi/quarantine",
  "/x/../api/quarantine",
  "/api/./quarantine",
  "//api/quarantine",
  "/api//quarantine",
  "/API/quarantine",
  "/Api/quarantine",
  "/api/quarantine/",
  "/api/quarantine?limit=5",
  "/api/quarantine#x",
  "/api/later",
  "/%61pi/later",
  "/api/stray",
  "/%61pi/stray",
];
const RELEASES = ["/api/quarantine/1/release", "/%61pi/quarantine/1/release", "http://x/api/quarantine/1/release", "/x/../api/quarantine/1/release", "//api/quarantine/1/release", "/API/quarantine/1/release", "/api/quarantine/1/%72elease", "/api/quarantine/1/reject"];
const BODY = JSON.stringify({ comment: "reviewed" });

describe("admin API authentication on the routed /api scope", () => {
  it("refuses every spelling of a listing without the token, and never reaches the desk", async () => {
    calls.length = 0;
    for (const path of LISTS) {
      const status = await raw(`GET ${path} HTTP/1.1`);
      expect([401, 404, 400], path).toContain(status);
    }
    expect(calls).toEqual([]);
  });

  it("refuses every spelling of a release or reject without the token", async () => {
    calls.length = 0;
    for (const path of RELEASES) {
      const status = await raw(`POST ${path} HTTP/1.1`, [], BODY);
      expect([401, 404, 400], path).toContain(status);
    }
    expect(calls).toEqual([]);
  });

  it("refuses a wrong token on the encoded spellings", async () => {
    for (const path of ["/%61pi/quarantine", "http://x/api/quarantine"]) {
      expect(await raw(`GET ${path} HTTP/1.1`, ["Authorization: Bearer wrong"]), path).toBe(401);
    }
  });

  it("the routes the router does reach by an odd spelling answer 401, not 404", async () => {
    // These are the spellings the router decodes to a real route: the hook must be the one answering.
    for (const path of ["/%61pi/quarantine", "http://x/api/quarantine", "/%61pi/later", "/%61pi/stray"]) {
      expect(await raw(`GET ${path} HTTP/1.1`), path).toBe(401);
    }
    expect(await raw("POST /%61pi/quarantine/1/release HTTP/1.1", [], BODY)).toBe(401);
  });

  it("answers the holder of the token, whatever the spelling the router accepts", async () => {
    calls.length = 0;
    const auth = [`Authorization: Bearer ${TOKEN}`];
    expect(await raw("GET /api/quarantine HTTP/1.1", auth)).toBe(200);
    expect(await raw("GET /%61pi/quarantine HTTP/1.1", auth)).toBe(200);
    expect(await raw("POST /%61pi/quarantine/1/release HTTP/1.1", auth, BODY)).toBe(404);
    expect(await raw("GET /api/later HTTP/1.1", auth)).toBe(200);
    expect(await raw("GET /api/stray HTTP/1.1", auth)).toBe(200);
    expect(calls).toEqual(["pending", "pending", "release"]);
  });

  it("keeps health, readiness and metrics open", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics"]) expect(await raw(`GET ${path} HTTP/1.1`), path).toBe(200);
  });
});
