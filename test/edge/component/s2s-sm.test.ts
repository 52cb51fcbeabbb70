/**
 * XEP-0198 on inbound s2s streams (src/edge/xmpp/s2s-sm.ts): a partner's
 * stanzas are acknowledged only when handled, in order, and, where a
 * DeliveryConfirm is given, only after it confirmed them; a loss since the
 * oldest unacknowledged stanza arrived ends the stream instead.
 */
import { describe, expect, it } from "vitest";
import { InboundStreamManagement, NS_SM, type DeliveryConfirm } from "../../../src/edge/xmpp/s2s-sm.js";
import { xml, type Element } from "../../../src/xmpp/index.js";

function harness(confirm?: DeliveryConfirm) {
  const out: Element[] = [];
  const failures: string[] = [];
  const sm = new InboundStreamManagement({ write: (el) => out.push(el), fail: (r) => failures.push(r), confirm });
  sm.element(xml("enable", { xmlns: NS_SM }));
  const acks = () => out.filter((el) => el.name === "a").map((el) => Number(el.attrs.h));
  return { sm, out, failures, acks };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("inbound s2s stream management", () => {
  it("answers enable, and acknowledges only the stanzas handled in a row from the first", async () => {
    const { sm, out, acks } = harness();
    expect(out[0]!.name).toBe("enabled");
    const [s1, s2, s3] = [sm.take(), sm.take(), sm.take()];
    sm.handled(s2);
    await settle();
    expect(acks()).toEqual([]);
    sm.handled(s1);
    await settle();
    expect(acks()).toEqual([2]);
    sm.element(xml("r", { xmlns: NS_SM }));
    // Nothing new handled: the answer is what is already acknowledged.
    expect(acks()).toEqual([2, 2]);
    sm.handled(s3);
    await settle();
    expect(acks()).toEqual([2, 2, 3]);
  });

  it("waits for the deliveries to be confirmed, and ends the stream when a link was lost since", async () => {
    let epoch = 0;
    let release: () => void = () => undefined;
    const confirm: DeliveryConfirm = {
      epoch: () => epoch,
      confirm: (since) => (since !== epoch ? Promise.reject(new Error("lost")) : new Promise<void>((r) => (release = r))),
    };
    const { sm, acks, failures } = harness(confirm);
    const s1 = sm.take();
    sm.handled(s1);
    await settle();
    expect(acks()).toEqual([]);
    release();
    await settle();
    expect(acks()).toEqual([1]);

    const s2 = sm.take();
    epoch++;
    sm.handled(s2);
    await settle();
    expect(acks()).toEqual([1]);
    expect(failures).toEqual(["lost"]);
  });
});
