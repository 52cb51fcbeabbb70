/**
 * What the archive keeps of the parts beyond body, subject and thread: as
 * received and, when compliance changed them, as delivered; covered by the
 * hash chain, while records without parts hash as they did before the column.
 */
import { describe, expect, it } from "vitest";
import { canonical, chainHash, GENESIS, toRecord } from "../../src/archive/record.js";
import { parseArchivedContent } from "../../src/archive/content.js";
import { toJson } from "../../src/archive/export.js";
import { releasedEnvelopes } from "../../src/archive/quarantine.js";
import type { StoredRecord } from "../../src/archive/record.js";
import type { Envelope } from "../../src/model/envelope.js";
import type { Decision } from "../../src/model/route.js";

const original: Envelope = {
  id: "m1", receivedAt: 1_700_000_000_000, direction: "inbound", protocol: "xmpp", kind: "message",
  from: "eve@partner.example/x", to: "bob@corp.example", partnerDomain: "partner.example", type: "chat",
  body: "the secret", subject: "secret", nick: "Secret Agent",
  links: [{ url: "https://x.example/f", desc: "secret file" }],
  extensions: [{ name: "x", ns: "urn:example:notes", attrs: {}, children: ["secret"] }],
};
const decided: Envelope = {
  ...original, body: "the ***", subject: "***", nick: "*** Agent", links: [{ url: "https://x.example/f", desc: "*** file" }], extensions: undefined,
};
const decision = (deliver: boolean, env: Envelope): Decision => ({
  deliver, envelope: env, policyVersion: "v1",
  verdicts: [{ stage: "extensions", action: "strip", detail: "1" }, { stage: "rules", ruleId: "redact-secret", action: "redact", detail: "4 redacted" }],
});

describe("archived content", () => {
  it("keeps every part as received and as delivered, and the delivered form has none of the redacted text", () => {
    const r = toRecord(original, decision(true, decided));
    const c = parseArchivedContent(r.content)!;
    expect(c.received).toEqual({ nick: "Secret Agent", links: original.links, extensions: original.extensions });
    expect(c.delivered).toEqual({ subject: "***", nick: "*** Agent", links: decided.links });
    expect(JSON.stringify(c.delivered)).not.toMatch(/secret/i);
    expect(r.deliveredBody).toBe("the ***");
    // Searches and exports in JSON show it.
    expect(toJson({ ...r, seq: 1, hash: Buffer.alloc(32), purgeId: null }).content).toEqual(c);
  });

  it("has no delivered form for a blocked message, and no content at all for a message without other parts", () => {
    expect(parseArchivedContent(toRecord(original, decision(false, original)).content)!.delivered).toBeUndefined();
    const plain: Envelope = { ...original, subject: undefined, nick: undefined, links: undefined, extensions: undefined };
    expect(toRecord(plain, decision(true, plain)).content).toBeNull();
  });

  it("is covered by the hash chain; a record without content hashes as before the column", () => {
    const r = toRecord(original, decision(true, decided));
    const tampered = { ...r, content: r.content!.replace("*** Agent", "Secret Agent") };
    expect(chainHash(GENESIS, 1, tampered).equals(chainHash(GENESIS, 1, r))).toBe(false);
    expect(chainHash(GENESIS, 1, { ...r, content: null }).equals(chainHash(GENESIS, 1, r))).toBe(false);
    const old = { ...r, content: undefined };
    expect(JSON.parse(canonical(1, old))).toHaveLength(22);
    expect(JSON.parse(canonical(1, { ...old, content: null }))).toHaveLength(22);
  });

  it("a released record delivers the parts as decided, not as received", () => {
    const r = toRecord(original, { ...decision(false, decided), quarantined: true } as Decision);
    const stored = { ...r, seq: 7, hash: Buffer.alloc(32), purgeId: null } as StoredRecord;
    const { original: back, deliver } = releasedEnvelopes(stored, Date.now());
    expect(back).toMatchObject({ nick: "Secret Agent", subject: "secret", extensions: original.extensions });
    expect(deliver).toMatchObject({ body: "the ***", subject: "***", nick: "*** Agent", links: decided.links });
    expect(deliver.extensions).toBeUndefined();
  });
});
