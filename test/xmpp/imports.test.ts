/**
 * The XMPP protocol library sits below every kind of XMPP stream: the access
 * layer (c2s, the core's end of the component link) and the edges use it, and
 * neither it nor the access layer reaches into an edge.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

/** Every relative import (static, re-export or dynamic) of the files under `dir`, as "file -> target" from the repository root. */
function importsOf(dir: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  for (const file of tsFiles(join(ROOT, dir))) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      out.push({ file: relative(ROOT, file), target: relative(ROOT, resolve(dirname(file), m[1]!)) });
    }
  }
  return out;
}

const into = (prefix: string) => (i: { target: string }) => i.target.startsWith(prefix);

describe("import rules of the XMPP library", () => {
  it("finds the imports it checks", () => {
    // A scan that found nothing would pass every rule below.
    expect(importsOf("src/access").some(into("src/xmpp/"))).toBe(true);
    expect(importsOf("src/edge").some(into("src/xmpp/"))).toBe(true);
  });

  it("src/access imports nothing from src/edge", () => {
    expect(importsOf("src/access").filter(into("src/edge/"))).toEqual([]);
  });

  it("src/xmpp imports nothing from src/edge or src/access", () => {
    expect(importsOf("src/xmpp").filter((i) => into("src/edge/")(i) || into("src/access/")(i))).toEqual([]);
  });
});
