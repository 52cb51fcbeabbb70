import { appendFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal, JournalError } from "../../src/archive/journal.js";
import { tempDir } from "./helpers.js";

const opts = (dir: string, over: Partial<Parameters<typeof Journal.open>[0]> = {}) => ({
  dir, budgetBytes: 64 << 20, segmentBytes: 1 << 20, commitDelayMs: 2, ...over,
});

async function readAll(j: Journal): Promise<string[]> {
  const out: string[] = [];
  let pos = j.start;
  for (let i = 0; i < 1000; i++) {
    const { entries, next } = await j.read(pos, 500);
    if (entries.length === 0) break;
    out.push(...entries.map((e) => e.payload.toString()));
    pos = next;
  }
  return out;
}

describe("archive journal", () => {
  it("group-commits concurrent appends in few fsyncs and reads them back in order", async () => {
    const dir = tempDir();
    const j = await Journal.open(opts(dir));
    let commits = 0;
    j.on("commit", () => commits++);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => j.append(Buffer.from(`rec-${i}`))));
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThan(50);
    expect(j.pendingRecords).toBe(2000);
    const got = await readAll(j);
    expect(got).toEqual(Array.from({ length: 2000 }, (_, i) => `rec-${i}`));
    await j.close();
    const again = await Journal.open(opts(dir));
    expect(again.pendingRecords).toBe(2000);
    await again.close();
  });

  it("cuts a torn tail on open and keeps appending after it", async () => {
    const dir = tempDir();
    const j = await Journal.open(opts(dir));
    for (const s of ["a", "b", "c"]) await j.append(Buffer.from(s));
    await j.close();
    // A crash mid-write: a header promising more bytes than made it to disk.
    appendFileSync(join(dir, "seg-00000001.log"), Buffer.from([0, 0, 1, 0, 9, 9, 9, 9, 1, 2]));
    const k = await Journal.open(opts(dir));
    expect(k.pendingRecords).toBe(3);
    await k.append(Buffer.from("d"));
    expect(await readAll(k)).toEqual(["a", "b", "c", "d"]);
    await k.close();
  });

  it("refuses appends past its disk budget", async () => {
    const dir = tempDir();
    const j = await Journal.open(opts(dir, { budgetBytes: 4096, segmentBytes: 1024 }));
    const payload = Buffer.alloc(1000, 120);
    for (let i = 0; i < 4; i++) await j.append(payload);
    const err = await j.append(payload).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JournalError);
    expect((err as JournalError).reason).toBe("budget");
    await j.close();
    await expect(j.append(payload)).rejects.toMatchObject({ reason: "closed" });
  });

  it("rolls segments and deletes them once acked", async () => {
    const dir = tempDir();
    const j = await Journal.open(opts(dir, { segmentBytes: 4096 }));
    for (let i = 0; i < 40; i++) await j.append(Buffer.alloc(500, 65 + (i % 26)));
    expect(readdirSync(dir).filter((f) => f.endsWith(".log")).length).toBeGreaterThan(3);
    const { entries, next } = await j.read(j.start, 1000);
    expect(entries).toHaveLength(40);
    await j.ack(next, 40);
    expect(j.pendingRecords).toBe(0);
    expect(j.pendingBytes).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith(".log"))).toHaveLength(1);
    await j.close();
    const k = await Journal.open(opts(dir, { segmentBytes: 4096 }));
    expect(k.pendingRecords).toBe(0);
    await k.close();
  });
});
