/**
 * The whole path an administrator takes: provision users with the CLI, start
 * the real gateway (all default modules), and log in with a real client.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseConfig, demarcCommand, runDemarc, workdir, type DemarcProcess } from "../helpers/demarc.js";
import { createTestCa } from "../helpers/ca.js";
import { login, xml, isMsg, C2S_PORT, C2S_TLS_PORT, type User } from "../access/c2s/helpers.js";

const ADDRESS = "127.0.4.5";
let gw: DemarcProcess | undefined;
let dir: string;
let configPath: string;
const users: User[] = [];

beforeAll(async () => {
  const w = workdir();
  const ca = createTestCa(join(w.dir, "ca"));
  const leaf = ca.issue({ name: "corp", domains: ["corp.test"] });
  ({ dir, configPath } = workdir(
    baseConfig(ADDRESS, {
      data_dir: "data",
      archive: { url: "sqlite:demarc.db" },
      tls: { certificates: [{ cert: leaf.certPath, key: leaf.keyPath }] },
      s2s: { starttls: { host: ADDRESS, port: 16269 }, direct_tls: { host: ADDRESS, port: 16270 } },
      // The test clients' short passwords ("pw-ann"): the minimum is a setting.
      c2s: { starttls: { host: ADDRESS, port: C2S_PORT }, direct_tls: { host: ADDRESS, port: C2S_TLS_PORT }, min_password_length: 6 },
    }),
  ));
  const add = (jid: string) => demarcCommand(["--config", configPath, "users", "add", jid, "--password", `pw-${jid.split("@")[0]}`], { cwd: dir });
  expect((await add("ann@corp.test")).code).toBe(0);
  expect((await add("ben@corp.test")).code).toBe(0);
  gw = runDemarc(["--config", configPath, "start"], { cwd: dir });
  await gw.waitForLog((l) => l.msg === "demarc started", 20_000);
  const bench = { address: ADDRESS, caPem: ca.certPem };
  users.push(await login(bench, "ann", { resource: "a" }), await login(bench, "ben", { resource: "b", direct: true }));
}, 60_000);

afterAll(async () => {
  for (const u of users) await u.stop();
  await gw?.stop();
});

describe("users provisioned by the CLI, served by the running gateway", () => {
  it("log in and exchange a message through compliance and the archive", async () => {
    const [ann, ben] = users as [User, User];
    await ben.send(xml("presence"));
    await ann.send(xml("message", { to: "ben@corp.test", type: "chat" }, xml("body", {}, "hello ben")));
    const m = await ben.waitFor(isMsg("hello ben"));
    expect(m.attrs.from).toBe("ann@corp.test/a");
    expect(gw!.logs.some((l) => l.msg === "c2s authenticated" && l.user === "ann@corp.test")).toBe(true);
    // Nothing in the log carries the message text.
    expect(gw!.logs.some((l) => JSON.stringify(l).includes("hello ben"))).toBe(false);
  });
});
