import { describe, expect, it } from "vitest";
import { aggregate } from "../../src/core/aggregate.js";
import type { RichPresence, RichState } from "../../src/model/presence.js";
import type { PresenceSource } from "../../src/core/types.js";

const dev = (state: RichState, priority = 0, changed = 0, note?: string) => ({ presence: { state, note }, priority, changed });
const none = new Map<PresenceSource, RichPresence>();

describe("presence aggregation precedence", () => {
  it("offline without devices, whatever the sources say", () => {
    expect(aggregate([], new Map([["phone", { state: "on-the-phone" }]])).state).toBe("offline");
    expect(aggregate([dev("offline")], none).state).toBe("offline");
  });

  it("idle only when every device is idle", () => {
    expect(aggregate([dev("idle"), dev("idle")], none).state).toBe("idle");
    expect(aggregate([dev("idle"), dev("available")], none).state).toBe("available");
    expect(aggregate([dev("idle"), dev("away")], none).state).toBe("away");
  });

  it("dnd on any device beats phone and calendar; phone beats calendar; both beat available", () => {
    const sources = new Map<PresenceSource, RichPresence>([
      ["phone", { state: "on-the-phone" }],
      ["calendar", { state: "in-a-meeting", note: "Board" }],
    ]);
    expect(aggregate([dev("available"), dev("dnd")], sources).state).toBe("dnd");
    expect(aggregate([dev("available")], sources).state).toBe("on-the-phone");
    expect(aggregate([dev("available")], new Map([["calendar", { state: "in-a-meeting", note: "Board" }]]))).toEqual({ state: "in-a-meeting", note: "Board" });
  });

  it("a manual setting overrides everything while a device is online", () => {
    const sources = new Map<PresenceSource, RichPresence>([["manual", { state: "busy", note: "deadline" }], ["phone", { state: "on-the-phone" }]]);
    expect(aggregate([dev("dnd")], sources)).toEqual({ state: "busy", note: "deadline" });
  });

  it("busy beats available; available beats away; the note comes from the deciding device", () => {
    expect(aggregate([dev("available"), dev("busy", 0, 0, "coding")], none)).toEqual({ state: "busy", note: "coding" });
    expect(aggregate([dev("away", 5), dev("available", -1, 0, "here")], none)).toEqual({ state: "available", note: "here" });
  });

  it("ties go to priority, then the most recent change", () => {
    expect(aggregate([dev("available", 1, 1, "a"), dev("available", 5, 0, "b")], none).note).toBe("b");
    expect(aggregate([dev("available", 1, 1, "a"), dev("available", 1, 2, "b")], none).note).toBe("b");
  });
});
