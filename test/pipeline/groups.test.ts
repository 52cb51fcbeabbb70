import { describe, expect, it } from "vitest";
import { GroupDirectory, type DirectoryConnector } from "../../src/pipeline/groups.js";

describe("the group directory", () => {
  it("a group is the union of its members across layers; lookups are case-insensitive", () => {
    const d = new GroupDirectory();
    d.setLayer("policy", { research: ["*@research.corp.example"], nda: ["supplier.example"] });
    d.setLayer("config", { research: ["analyst@corp.example"] });
    d.setLayer("accounts", { research: ["Carol@corp.example"], trading: ["dave@corp.example"] });
    expect(d.isMember("research", "x@research.corp.example")).toBe(true);
    expect(d.isMember("research", "analyst@corp.example")).toBe(true);
    expect(d.isMember("research", "carol@corp.example")).toBe(true);
    expect(d.isMember("research", "dave@corp.example")).toBe(false);
    expect(d.isMember("nda", "bob@supplier.example")).toBe(true);
    expect(d.groupsOf("carol@corp.example")).toEqual(["research"]);
    expect(d.definedBy("research")).toEqual(["policy", "config", "accounts"]);
    expect(d.names()).toEqual(["nda", "research", "trading"]);
    const others = d.without("policy");
    expect(others.knows("nda")).toBe(false);
    expect(others.isMember("research", "x@research.corp.example")).toBe(false);
    expect(others.isMember("research", "carol@corp.example")).toBe(true);
  });

  it("a connector is read on refresh; one that fails keeps its previous groups and is reported", async () => {
    let answer: Record<string, string[]> | Error = { traders: ["dave@corp.example"] };
    const ldap: DirectoryConnector = { name: "ldap", load: async () => { if (answer instanceof Error) throw answer; return answer; } };
    const d = new GroupDirectory();
    d.addConnector(ldap);
    expect(d.knows("traders")).toBe(false);
    await d.refresh();
    expect(d.isMember("traders", "dave@corp.example")).toBe(true);
    answer = { traders: ["erin@corp.example"] };
    await d.refresh();
    expect(d.isMember("traders", "dave@corp.example")).toBe(false);
    answer = new Error("ldap down");
    const warned: unknown[] = [];
    await d.refresh({ warn: (o) => void warned.push(o) });
    expect(d.isMember("traders", "erin@corp.example")).toBe(true);
    expect(warned).toEqual([{ directory: "ldap", err: "ldap down" }]);
  });
});
