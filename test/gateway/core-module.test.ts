import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { policyFromConfig } from "../../src/gateway/core-module.js";
import { GroupDirectory } from "../../src/pipeline/groups.js";
import { makeCore, online } from "../core/helpers.js";

describe("core settings", () => {
  it("defaults to the design guide's limits and open watching", () => {
    const cfg = configSchema.parse({}).core;
    expect(cfg).toMatchObject({ max_contacts: 200, max_watchers: 200, max_offline: 1000, default_watch: "allow", groups: {}, watch_rules: [] });
    expect(policyFromConfig(cfg).isTrivial).toBe(true);
  });

  it("refuses a watch rule naming a group nobody defines, at its path; a group of the directory will do", () => {
    const cfg = configSchema.parse({ core: { groups: { execs: { members: [] } }, watch_rules: [{ watcher: "contractors", watched: "execs", allow: false }] } }).core;
    expect(() => policyFromConfig(cfg)).toThrow('core.watch_rules.0.watcher: unknown group "contractors"');
    const directory = new GroupDirectory();
    directory.setLayer("accounts", { contractors: ["temp@corp.test"] });
    const policy = policyFromConfig(cfg, { directory });
    expect(policy.groupsOf("temp@corp.test")).toEqual(["contractors"]);
    expect(policy.mayWatch(policy.groupsOf("temp@corp.test"), ["execs"]).allowed).toBe(false);
  });

  it("applies a new policy on reload to users already loaded", async () => {
    const { core } = await makeCore(["a@corp.test", "b@corp.test"]);
    const a = await online(core, "a@corp.test", "r");
    const b = await online(core, "b@corp.test", "r");
    const cfg = configSchema.parse({
      core: { groups: { execs: { members: ["a@corp.test"] }, staff: { members: ["*@corp.test"] } }, watch_rules: [{ watcher: "staff", watched: "execs", allow: false }], default_watch: "allow" },
    }).core;
    await core.usePolicy(policyFromConfig(cfg));
    // b is staff, a is an exec (and staff): b may not watch a.
    await expect(b.s.subscription("a@corp.test", "subscribe")).rejects.toMatchObject({ condition: "forbidden" });
    await a.s.subscription("b@corp.test", "subscribe");
    expect(a.s.roster()[0]).toMatchObject({ jid: "b@corp.test", ask: true });
  });
});
