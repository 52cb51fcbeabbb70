import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PublicationStore } from "../../../src/edge/sip/publications.js";
import type { RichPresence } from "../../../src/model/presence.js";

type Change = [string, string, RichPresence | undefined];

describe("PublicationStore (RFC 3903 entity-tags and expiry)", () => {
  let changes: Change[];
  let store: PublicationStore;
  beforeEach(() => {
    vi.useFakeTimers();
    changes = [];
    store = new PublicationStore({ maxTotal: 4, maxPerPresentity: 2 }, (p, d, s) => changes.push([p, d, s]));
  });
  afterEach(() => {
    store.clear();
    vi.useRealTimers();
  });

  it("create issues an entity-tag and reports the state once", () => {
    const r = store.create("alice@partner.test", "partner.test", { state: "available" }, 60);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.publication.etag).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(store.current("alice@partner.test")).toEqual({ state: "available" });
    expect(changes).toEqual([["alice@partner.test", "partner.test", { state: "available" }]]);
  });

  it("refresh without a body moves the expiry, changes the tag and reports nothing", () => {
    const c = store.create("alice@partner.test", "partner.test", { state: "busy" }, 60);
    if (!c.ok) throw new Error("create failed");
    const first = c.publication.etag;
    vi.advanceTimersByTime(50_000);
    const r = store.update(first, "alice@partner.test", undefined, 60);
    expect(r.ok && r.publication.etag).not.toBe(first);
    expect(changes).toHaveLength(1);
    // The old tag is spent (section 4.1): a second use is a failed condition.
    expect(store.update(first, "alice@partner.test", undefined, 60)).toEqual({ ok: false, reason: "unknown-etag" });
    vi.advanceTimersByTime(50_000);
    expect(store.current("alice@partner.test")).toEqual({ state: "busy" });
    vi.advanceTimersByTime(10_001);
    expect(store.current("alice@partner.test")).toBeUndefined();
    expect(changes.at(-1)).toEqual(["alice@partner.test", "partner.test", undefined]);
  });

  it("modify replaces the state; the same state again reports nothing", () => {
    const c = store.create("alice@partner.test", "partner.test", { state: "available" }, 60);
    if (!c.ok) throw new Error("create failed");
    const m = store.update(c.publication.etag, "alice@partner.test", { state: "away", note: "lunch" }, 60);
    if (!m.ok) throw new Error("modify failed");
    store.update(m.publication.etag, "alice@partner.test", { state: "away", note: "lunch" }, 60);
    expect(changes.map((x) => x[2])).toEqual([{ state: "available" }, { state: "away", note: "lunch" }]);
  });

  it("an entity-tag of another presentity or an unknown one fails the condition", () => {
    const c = store.create("alice@partner.test", "partner.test", { state: "available" }, 60);
    if (!c.ok) throw new Error("create failed");
    expect(store.update(c.publication.etag, "mallory@partner.test", { state: "away" }, 60)).toEqual({ ok: false, reason: "unknown-etag" });
    expect(store.remove("nope", "alice@partner.test")).toEqual({ ok: false, reason: "unknown-etag" });
    expect(store.current("alice@partner.test")).toEqual({ state: "available" });
  });

  it("two devices: the newest state wins; removing it falls back to the other; the last removal is unavailable", () => {
    const a = store.create("alice@partner.test", "partner.test", { state: "available" }, 60);
    const b = store.create("alice@partner.test", "partner.test", { state: "on-the-phone" }, 60);
    if (!a.ok || !b.ok) throw new Error("create failed");
    expect(store.current("alice@partner.test")).toEqual({ state: "on-the-phone" });
    store.remove(b.publication.etag, "alice@partner.test");
    expect(store.current("alice@partner.test")).toEqual({ state: "available" });
    store.remove(a.publication.etag, "alice@partner.test");
    expect(changes.map((x) => x[2])).toEqual([{ state: "available" }, { state: "on-the-phone" }, { state: "available" }, undefined]);
    expect(store.size).toBe(0);
  });

  it("holds no more than its limits", () => {
    expect(store.create("a@p.test", "p.test", { state: "available" }, 60).ok).toBe(true);
    expect(store.create("a@p.test", "p.test", { state: "available" }, 60).ok).toBe(true);
    expect(store.create("a@p.test", "p.test", { state: "available" }, 60)).toEqual({ ok: false, reason: "full" });
    expect(store.create("b@p.test", "p.test", { state: "available" }, 60).ok).toBe(true);
    expect(store.create("c@p.test", "p.test", { state: "available" }, 60).ok).toBe(true);
    expect(store.create("d@p.test", "p.test", { state: "available" }, 60)).toEqual({ ok: false, reason: "full" });
  });

  it("removeWhere ends the publications of domains that left", () => {
    store.create("a@p.test", "p.test", { state: "away" }, 60);
    store.create("b@q.test", "q.test", { state: "away" }, 60);
    store.removeWhere((d) => d === "p.test");
    expect(store.current("a@p.test")).toBeUndefined();
    expect(store.current("b@q.test")).toEqual({ state: "away" });
    expect(changes.at(-1)).toEqual(["a@p.test", "p.test", undefined]);
  });
});
