import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envelope, pipelineFor, wiredRouter } from "./fixtures.js";

// This file's loopback addresses: 127.0.5.1 (the compliance server), 127.0.5.2 (nothing listens).
let server: Server;
let base: string;
const seen: { path: string; json: { envelope: Record<string, unknown>; parts?: unknown[]; policy_version: string; groups?: { from: string[]; to: string[] } } }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => {
      const json = JSON.parse(data);
      seen.push({ path: req.url ?? "", json });
      const body: string = json.envelope.body ?? "";
      const reply = (status: number, out: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(typeof out === "string" ? out : JSON.stringify(out));
      };
      if (req.url === "/slow") return void setTimeout(() => reply(200, { verdict: "allow" }), 1500);
      if (req.url === "/error") return reply(500, { error: "boom" });
      if (req.url === "/junk") return reply(200, "<html>not json");
      // 2 MiB of valid JSON, declared up front, and 3 MiB sent chunked without a length.
      if (req.url === "/huge") return reply(200, { verdict: "allow", reason: "x".repeat(2 * 1024 * 1024) });
      if (req.url === "/huge-chunked") {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"verdict":"allow","reason":"');
        for (let i = 0; i < 3 * 16; i++) res.write("y".repeat(64 * 1024));
        return void res.end('"}');
      }
      if (body.includes("secret")) return reply(200, { verdict: "block", reason: "Vendor says no.", rule_id: "V-17" });
      if (body.includes("acct")) return reply(200, { verdicts: [{ verdict: "redact", body: body.replace(/acct \d+/, "acct ####") }, { verdict: "tag", tags: ["vendor-checked"] }] });
      return reply(200, { verdict: "allow" });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.5.1", r));
  base = `http://127.0.5.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function withServer(url: string, mode: "fail-open" | "fail-closed", timeout = 5_000, extra = "") {
  return wiredRouter(
    pipelineFor({
      "90.yaml": `kind: policy\nexternal:\n  - id: vendor\n    url: ${url}\n    timeout_ms: ${timeout}\n    on_unreachable: ${mode}\n${extra}`,
    }),
  );
}

describe("external compliance server over HTTP", () => {
  it("answers: its block reaches the sender, its redaction and tags are applied, it sees the envelope and policy version", async () => {
    const w = withServer(`${base}/verdict`, "fail-closed");
    const blocked = await w.router.route(envelope({ body: "the secret plan", subject: "plans" }));
    expect(blocked).toEqual({ delivered: false, error: { condition: "policy-violation", type: "modify", text: "Vendor says no." } });
    expect(w.archived[0]!.decision.verdicts).toEqual([{ stage: "external:vendor", ruleId: "vendor/V-17", action: "block", reason: "Vendor says no." }]);
    const req = seen.at(-1)!;
    expect(req.json.envelope).toMatchObject({ from: "alice@corp.example/desk", to: "bob@partner.example", body: "the secret plan", direction: "outbound" });
    expect(req.json.envelope).not.toHaveProperty("original");
    // Every part, flat, beside the envelope: a server that reads only text sees the subject too.
    expect(req.json.parts).toEqual([{ kind: "body", path: "body", text: "the secret plan" }, { kind: "subject", path: "subject", text: "plans" }]);
    expect(req.json.policy_version).toBe(w.archived[0]!.decision.policyVersion);

    const ok = await w.router.route(envelope({ body: "pay acct 12345 today" }));
    expect(ok.delivered).toBe(true);
    expect(w.remote[0]).toMatchObject({ body: "pay acct #### today", tags: ["vendor-checked"] });
  });

  it("sees the groups of sender and recipient from the group directory", async () => {
    const pipeline = pipelineFor({
      "00.yaml": "kind: policy\ngroups:\n  research: ['*@corp.example']\n  suppliers: [partner.example]\n",
      "90.yaml": `kind: policy\nexternal:\n  - id: vendor\n    url: ${base}/verdict\n`,
    });
    const w = wiredRouter(pipeline);
    expect((await w.router.route(envelope({ body: "groups please" }))).delivered).toBe(true);
    expect(seen.at(-1)!.json.groups).toEqual({ from: ["research"], to: ["suppliers"] });
  });

  it("slow: past the timeout, fail-open delivers and records why; fail-closed blocks with a wait error", async () => {
    const open = withServer(`${base}/slow`, "fail-open", 200);
    const t0 = Date.now();
    expect((await open.router.route(envelope())).delivered).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1200);
    expect(open.archived[0]!.decision.verdicts[0]).toMatchObject({ action: "allow", ruleId: "vendor", reason: "vendor unavailable (no answer within 200 ms): fail-open" });

    const closed = withServer(`${base}/slow`, "fail-closed", 200);
    const r = await closed.router.route(envelope());
    expect(r).toEqual({ delivered: false, error: { condition: "internal-server-error", type: "wait", text: "The compliance check is unavailable; try again later." } });
    expect(closed.remote).toHaveLength(0);
  });

  it("down: connection refused, in both modes", async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.5.2", r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const url = `http://127.0.5.2:${port}/verdict`;

    const open = withServer(url, "fail-open");
    expect((await open.router.route(envelope())).delivered).toBe(true);
    expect(open.archived[0]!.decision.verdicts[0]!.reason).toMatch(/^vendor unavailable \(connection failed: ECONNREFUSED\): fail-open$/);

    const closed = withServer(url, "fail-closed");
    expect(await closed.router.route(envelope())).toMatchObject({ delivered: false, error: { condition: "internal-server-error" } });
    expect(closed.archived[0]!.decision.verdicts[0]).toMatchObject({ action: "block", ruleId: "vendor" });
  });

  it("an HTTP error or an answer that is not a verdict counts as unreachable", async () => {
    const e500 = withServer(`${base}/error`, "fail-closed");
    expect((await e500.router.route(envelope())).delivered).toBe(false);
    expect(e500.archived[0]!.decision.verdicts[0]!.reason).toBe("vendor unavailable (HTTP 500): fail-closed");
    const junk = withServer(`${base}/junk`, "fail-open");
    expect((await junk.router.route(envelope())).delivered).toBe(true);
    expect(junk.archived[0]!.decision.verdicts[0]!.reason).toBe("vendor unavailable (answer is not JSON): fail-open");
  });

  it("an answer over max_response_bytes (default 1 MiB) counts as unreachable, declared or streamed", async () => {
    for (const path of ["/huge", "/huge-chunked"]) {
      const open = withServer(`${base}${path}`, "fail-open", 5_000);
      expect((await open.router.route(envelope())).delivered, path).toBe(true);
      expect(open.archived[0]!.decision.verdicts[0]!.reason, path).toBe("vendor unavailable (answer over 1048576 bytes (max_response_bytes)): fail-open");
      const closed = withServer(`${base}${path}`, "fail-closed", 5_000);
      expect(await closed.router.route(envelope()), path).toMatchObject({ delivered: false, error: { condition: "internal-server-error", type: "wait" } });
    }
    // A smaller cap applies to ordinary answers too; one under it passes.
    const tight = withServer(`${base}/`, "fail-closed", 5_000, "    max_response_bytes: 256\n");
    expect((await tight.router.route(envelope({ body: "secret plan" }))).delivered).toBe(false);
    expect(tight.archived[0]!.decision.verdicts[0]!.reason).toBe("Vendor says no.");
  });
});
