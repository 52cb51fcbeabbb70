import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BASE_PORTS, baseConfig, runDemarc, workdir, type DemarcProcess } from "../helpers/demarc.js";

// This file's loopback address: 127.0.5.10.
const running: DemarcProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

describe("the gateway process and its policy", () => {
  it("reloads policy on SIGHUP, and refuses a bad edit with a log line while it keeps running", async () => {
    const { dir } = workdir(baseConfig("127.0.5.10", { policy: { dir: "rules", watch: false } }));
    mkdirSync(join(dir, "rules"));
    writeFileSync(join(dir, "rules", "10.yaml"), "kind: policy\nrules:\n  - id: a\n    when: { words: [falcon] }\n    then: { action: block }\n");
    const p = runDemarc(["--config", join(dir, "demarc.yaml"), "start"], { cwd: dir });
    running.push(p);
    const loaded = await p.waitForLog((l) => l.msg === "policy loaded");
    expect(loaded).toMatchObject({ rules: 1 });
    await p.waitForLog((l) => l.msg === "demarc started");

    writeFileSync(join(dir, "rules", "20.yaml"), "kind: policy\nrules:\n  - id: b\n    when: { words: [osprey] }\n    then: { action: block }\n");
    p.signal("SIGHUP");
    const reloaded = await p.waitForLog((l) => l.msg === "policy reloaded");
    expect(reloaded).toMatchObject({ why: "SIGHUP", previous: loaded.version, rules: 2 });

    writeFileSync(join(dir, "rules", "30.yaml"), "kind: policy\nrules:\n  - id: c\n    then: { action: nuke }\n");
    p.signal("SIGHUP");
    const refused = await p.waitForLog((l) => l.msg === "policy reload refused; the previous policy stays in force");
    expect(String(refused.err)).toMatch(/rules\/30\.yaml:4: rule c: rules\.0\.then\.action/);
    expect(refused.version).toBe(reloaded.version);
    expect((await fetch(`http://127.0.5.10:${BASE_PORTS.admin}/healthz`)).status).toBe(200);
    expect(p.child.exitCode).toBeNull();
  });
});
