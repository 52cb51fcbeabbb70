import { describe, expect, it } from "vitest";
import { Inbox } from "../../../src/access/c2s/inbox.js";

describe("c2s inbox", () => {
  it("handles items one at a time in order, after the code that pushed them, and goes on after a failure", async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const inbox = new Inbox<number>(
      async (n) => {
        log.push(`start ${n}`);
        if (n === 1) await gate;
        if (n === 2) throw new Error("two");
        log.push(`end ${n}`);
        if (n === 3) done();
      },
      (err) => log.push(`failed ${err.message}`),
    );
    inbox.push(1);
    inbox.push(2);
    log.push("pushed");
    await Promise.resolve();
    inbox.push(3);
    expect(log).toEqual(["pushed", "start 1"]);
    release();
    await finished;
    expect(log).toEqual(["pushed", "start 1", "end 1", "start 2", "failed two", "start 3", "end 3"]);
  });
});
