/**
 * `demarc policy test DIR --samples DIR`: every sample message in a folder
 * through the policy, each checked against its `expect:`. One line per
 * sample; exit 0 when every expectation holds, 1 when one does not, 78 when a
 * sample cannot be read (the others still run).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, EXIT, UsageError } from "../../errors.js";
import { mismatches, outcomeOf } from "../../pipeline/expect.js";
import type { CompliancePipeline } from "../../pipeline/pipeline.js";
import { displayPath } from "../../pipeline/policy/index.js";
import { readSample } from "../../pipeline/sample.js";

export async function runSamples(pipeline: CompliancePipeline, dir: string, write: (line: string) => void): Promise<number> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => /\.ya?ml$/i.test(f) && !f.startsWith(".") && statSync(join(dir, f)).isFile()).sort();
  } catch (err) {
    throw new UsageError(`${displayPath(dir)}: cannot read the samples folder (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (!names.length) throw new UsageError(`${displayPath(dir)}: no sample files (*.yaml) in the folder`);
  const count = { pass: 0, fail: 0, unchecked: 0, bad: 0 };
  for (const name of names) {
    const path = join(dir, name);
    const file = displayPath(path);
    let sample;
    try {
      sample = readSample(path);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      count.bad++;
      write(`ERROR ${err.message.startsWith(path) ? file + err.message.slice(path.length) : `${file}: ${err.message}`}`);
      continue;
    }
    const { decision } = await pipeline.trace(sample.envelope, sample.at);
    const got = outcomeOf(decision);
    if (!sample.expect) {
      count.unchecked++;
      write(`----  ${file}: ${got} (no expect:)`);
      continue;
    }
    const wrong = mismatches(sample.expect, decision);
    if (wrong.length) {
      count.fail++;
      write(`FAIL  ${file}: ${wrong.join("; ")}`);
    } else {
      count.pass++;
      write(`ok    ${file}: ${got}`);
    }
  }
  write(`${names.length} sample${names.length === 1 ? "" : "s"}: ${count.pass} passed, ${count.fail} failed, ${count.unchecked} without expect:, ${count.bad} unreadable`);
  if (count.bad) return EXIT.config;
  return count.fail ? EXIT.failure : EXIT.ok;
}
