#!/usr/bin/env node
// The installed entry point runs the compiled CLI; in a checkout that was never
// built it falls back to tsx so `node bin/demarc.js` works during development.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const compiled = join(root, "dist", "cli", "main.js");
if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  try {
    const { register } = await import("tsx/esm/api");
    register();
  } catch {
    process.stderr.write("demarc: not built; run `npm run build` first\n");
    process.exit(70);
  }
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
