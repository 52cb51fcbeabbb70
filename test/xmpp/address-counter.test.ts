import { describe, expect, it } from "vitest";
import { AddressCounter } from "../../src/xmpp/address-counter.js";

describe("streams per address", () => {
  it("counts streams per address", () => {
    const c = new AddressCounter();
    expect(c.acquire("1.2.3.4", 2)).toBe(true);
    expect(c.acquire("1.2.3.4", 2)).toBe(true);
    expect(c.acquire("1.2.3.4", 2)).toBe(false);
    c.release("1.2.3.4");
    expect(c.acquire("1.2.3.4", 2)).toBe(true);
    expect(c.count("5.6.7.8")).toBe(0);
  });
});
