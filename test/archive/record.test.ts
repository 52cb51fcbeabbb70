import { describe, expect, it } from "vitest";
import { newRid } from "../../src/archive/record.js";

describe("archive record ids", () => {
  it("are 128-bit, lead with the millisecond, and strictly increase within a process", () => {
    const now = Date.UTC(2025, 2, 1, 12);
    const ids = Array.from({ length: 1000 }, () => newRid(now));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(Number.parseInt(ids[0]!.slice(0, 12), 16)).toBeGreaterThanOrEqual(now);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids.map((id) => id.slice(16))).size).toBe(1000);
  });

  it("stay increasing past 65536 ids in one millisecond and when the clock steps back", () => {
    const now = Date.UTC(2030, 0, 1);
    let prev = newRid(now);
    for (let i = 0; i < 70_000; i++) {
      const id = newRid(now);
      if (!(id > prev)) throw new Error(`id ${i} did not increase: ${prev} then ${id}`);
      prev = id;
    }
    expect(Number.parseInt(prev.slice(0, 12), 16)).toBe(now + 1);
    const back = newRid(now - 60_000);
    expect(back > prev).toBe(true);
  });
});
