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
    out.push(...entries.map((e) => (e.value !== undefined ? String(e.value) : e.payload!.toString())));
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

  it("hands synced entries over from memory with their value, across segment rolls and gaps, and from disk after a reopen", async () => {
    const dir = tempDir();
    const j = await Journal.open(opts(dir, { segmentBytes: 4096 }));
    const text = (i: number) => `rec-${i}-${"x".repeat(300)}`;
    // Every 13th entry comes without a value: memory holds its payload bytes instead. Groups of ten roll a segment every second group.
    const gap = (i: number) => i % 13 === 6;
    for (let g = 0; g < 10; g++) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => g * 10 + k).map((i) => j.append(text(i), gap(i) ? undefined : text(i))));
    }
    expect(readdirSync(dir).filter((f) => f.endsWith(".log")).length).toBeGreaterThan(3);
    let pos = j.start;
    const got: string[] = [];
    let fromMemory = 0;
    for (let i = 0; i < 200 && got.length < 100; i++) {
      const first = await j.read(pos, 7);
      // A batch read again (a retried database write) gets the same entries.
      const again = await j.read(pos, 7);
      expect(again.entries.map((e) => e.value ?? e.payload!.toString())).toEqual(first.entries.map((e) => e.value ?? e.payload!.toString()));
      // An entry without a value comes back as its payload.
      if (first.entries[0]?.value === undefined) expect(gap(got.length)).toBe(true);
      for (const e of first.entries) {
        if (e.value !== undefined) fromMemory++;
        got.push(e.value !== undefined ? String(e.value) : e.payload!.toString());
      }
      pos = first.next;
    }
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => text(i)));
    expect(fromMemory).toBeGreaterThanOrEqual(100 - 8 * 7);
    await j.close();
    const k = await Journal.open(opts(dir, { segmentBytes: 4096 }));
    const replayed = await readAll(k);
    expect(replayed).toEqual(Array.from({ length: 100 }, (_, i) => text(i)));
    await k.close();
  });
});
