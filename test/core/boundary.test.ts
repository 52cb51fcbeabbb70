import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const CORE = resolve(import.meta.dirname, "../../src/core");
const FORBIDDEN = [/^node:(net|tls|dgram|http|https|http2)$/, /^(net|tls|dgram)$/, /\/edge\//, /\/access\//, /^\.\.\/(edge|access)(\/|$)/];

function imports(source: string): string[] {
  const out: string[] = [];
  const re = /(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;
  for (const m of source.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

describe("the core is a pure library", () => {
  it("imports nothing from the edge, the access layer or socket modules", () => {
    const files = readdirSync(CORE, { recursive: true }).map(String).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(5);
    const offenders: string[] = [];
    for (const f of files) {
      for (const spec of imports(readFileSync(join(CORE, f), "utf8"))) {
        if (FORBIDDEN.some((re) => re.test(spec))) offenders.push(`${f}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the scanner sees the kinds of import it must refuse", () => {
    expect(imports(`import net from "node:net";\nexport { x } from "../edge/xmpp/a.js";\nconst t = await import("../access/c2s/m.js");`)).toEqual([
      "node:net",
      "../edge/xmpp/a.js",
      "../access/c2s/m.js",
    ]);
  });
});
