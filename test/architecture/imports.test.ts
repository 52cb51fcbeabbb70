/**
 * The import rules of the layout (README "Layout"), as allow-lists checked on
 * every file under src/ with TypeScript's parser.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { builtinModules } from "node:module";
import { describe, expect, it } from "vitest";
import { ROOT, importsOf, parse, sourceFiles, type Import } from "./source.js";

const files = sourceFiles();
const imports = new Map(files.map((f) => [f, importsOf(parse(f, readFileSync(join(ROOT, f), "utf8")))]));

const inDir = (file: string | undefined, dir: string) => file !== undefined && file.startsWith(`${dir}/`);
const SOCKETS = new Set(["net", "tls", "dgram", "http", "https", "http2", "cluster", "child_process", "worker_threads"]);
const isBuiltin = (spec: string) => {
  const name = spec.replace(/^node:/, "");
  return (spec.startsWith("node:") || builtinModules.includes(name)) && builtinModules.includes(name.split("/")[0]!);
};

/** Imports of the files under `dir` that `allowed` refuses, as "file: spec". */
function offenders(dir: string, allowed: (i: Import, file: string) => boolean): string[] {
  const out: string[] = [];
  for (const [file, list] of imports) {
    if (!inDir(file, dir)) continue;
    for (const i of list) if (!allowed(i, file)) out.push(`${file}: ${i.spec}`);
  }
  return out;
}

describe("import rules", () => {
  it("the scanner sees every kind of import", () => {
    const sf = parse(
      "src/core/x.ts",
      `import net from "node:net";\nexport { a } from "../edge/a.js";\nimport type { B } from "../gateway/b.js";\nconst c = await import("../access/c.js");\ntype D = import("../admin/d.js").D;\n`,
    );
    expect(importsOf(sf).map((i) => [i.spec, i.target, i.typeOnly])).toEqual([
      ["node:net", undefined, false],
      ["../edge/a.js", "src/edge/a.ts", false],
      ["../gateway/b.js", "src/gateway/b.ts", true],
      ["../access/c.js", "src/access/c.ts", false],
      ["../admin/d.js", "src/admin/d.ts", true],
    ]);
  });

  it("the core imports only the core, the model and node built-ins that open no sockets", () => {
    expect(files.filter((f) => inDir(f, "src/core")).length).toBeGreaterThan(10);
    const bad = offenders("src/core", (i) => {
      if (i.target) return inDir(i.target, "src/core") || inDir(i.target, "src/model");
      if (isBuiltin(i.spec)) return !SOCKETS.has(i.spec.replace(/^node:/, ""));
      // The knex store adapter names knex's types; nothing of knex is loaded by the core.
      return i.spec === "knex" && i.typeOnly;
    });
    expect(bad).toEqual([]);
  });

  it("the model imports only the model and node built-ins", () => {
    expect(offenders("src/model", (i) => (i.target ? inDir(i.target, "src/model") : isBuiltin(i.spec)))).toEqual([]);
  });

  it("nothing imports src/gateway but the composition root itself and the CLI", () => {
    const bad: string[] = [];
    for (const [file, list] of imports) {
      if (inDir(file, "src/gateway") || inDir(file, "src/cli")) continue;
      for (const i of list) if (inDir(i.target, "src/gateway")) bad.push(`${file}: ${i.spec}`);
    }
    expect(bad).toEqual([]);
  });

  it("the router sits above the pipeline and the archive: they do not import it", () => {
    const bad = [...offenders("src/pipeline", (i) => !inDir(i.target, "src/router")), ...offenders("src/archive", (i) => !inDir(i.target, "src/router"))];
    expect(bad).toEqual([]);
  });

  it("src/access does not import src/edge: the XMPP pieces both need live in src/xmpp", () => {
    expect(offenders("src/access", (i) => !inDir(i.target, "src/edge"))).toEqual([]);
  });
});
