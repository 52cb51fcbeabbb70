/**
 * PRECIS preparation (RFC 8264/8265) as XMPP addresses (RFC 7622) and
 * passwords use it: one spelling per account, compatibility and invisible
 * characters refused in usernames, passwords kept as typed but in NFC.
 */
import { describe, expect, it } from "vitest";
import { foldAddress, opaqueString, PrecisError, usernameCaseMapped } from "../../src/model/precis.js";
import { JidMalformedError, parseJid } from "../../src/model/jid.js";
import { compileAddressPattern } from "../../src/pipeline/patterns.js";
import { deriveCredential, verifyPassword } from "../../src/access/c2s/scram.js";
import { passwordProblem } from "../../src/access/c2s/credentials.js";

const NFC = "zo\u00EB";
const NFD = "zoe\u0308";

describe("UsernameCaseMapped (RFC 8265 3.3)", () => {
  it("maps case, width and Unicode form to one spelling", () => {
    expect(usernameCaseMapped(NFD)).toBe(NFC);
    expect(usernameCaseMapped("ZOË")).toBe(NFC);
    expect(usernameCaseMapped("\uFF41\uFF4C\uFF49\uFF43\uFF45")).toBe("alice"); // fullwidth
    expect(usernameCaseMapped("user.name_1-x")).toBe("user.name_1-x");
    expect(usernameCaseMapped("\u05E9\u05DC\u05D5\u05DD")).toBe("\u05E9\u05DC\u05D5\u05DD");
  });

  it("refuses what the IdentifierClass disallows", () => {
    for (const bad of ["\uFB00", "\u2163", "alice smith", "ali\u200Dce", "\u2603", "a\u0000", "a\u00AD", "\u1100", "", "\u05E9\u05DC\u05D5\u05DDabc", "a\uFFFF"]) {
      expect(() => usernameCaseMapped(bad), JSON.stringify(bad)).toThrow(PrecisError);
    }
  });
});

describe("OpaqueString (RFC 8265 4.2)", () => {
  it("keeps case and symbols, maps non-ASCII spaces, normalises to NFC", () => {
    expect(opaqueString("Pass\u00A0Word")).toBe("Pass Word");
    expect(opaqueString("\u2603 snow")).toBe("\u2603 snow");
    expect(opaqueString(`${NFD}!`)).toBe(`${NFC}!`);
  });
  it("refuses controls and empty strings", () => {
    for (const bad of ["a\u0007b", "", "a\uFDD0"]) expect(() => opaqueString(bad), JSON.stringify(bad)).toThrow(PrecisError);
  });
});

describe("at every entry", () => {
  it("JIDs: localparts and resourceparts are prepared, ﬀ is malformed", () => {
    expect(parseJid(`${NFD}@Corp.Test/Phone\u00A0One`)).toEqual({ local: NFC, domain: "corp.test", resource: "Phone One" });
    expect(() => parseJid("\uFB00@corp.test")).toThrow(JidMalformedError);
    expect(() => parseJid("alice@corp.test/a\u0007")).toThrow(JidMalformedError);
  });

  it("policy and group patterns match prepared addresses whatever form they are typed in", () => {
    const m = compileAddressPattern(`${NFD.toUpperCase()}@corp.test`);
    expect(m(`${NFC}@corp.test`)).toBe(true);
    expect(foldAddress(`*@${"CORP"}.test`)).toBe("*@corp.test");
  });

  it("passwords: NFC and NFD verify alike; a credential from the old NFKC preparation still verifies", () => {
    const cred = deriveCredential("SHA-256", `pass-${NFD}-word`, 4096);
    expect(verifyPassword("SHA-256", cred, `pass-${NFC}-word`)).toBe(true);
    expect(verifyPassword("SHA-256", cred, "pass-zoe-word")).toBe(false);
    // Made the way earlier releases prepared passwords (NFKC): "ﬀ" became "ff".
    const legacy = deriveCredential("SHA-256", "stuff-password", 4096);
    expect(verifyPassword("SHA-256", legacy, "stu\uFB00-password")).toBe(true);
  });

  it("the minimum length counts characters after preparation", () => {
    expect(passwordProblem("short", 12)).toBe("the password has 5 characters; at least 12 are required (c2s.min_password_length)");
    expect(passwordProblem("\u00E9".repeat(12), 12)).toBeUndefined();
    // Twelve code points typed, six characters once composed.
    expect(passwordProblem("e\u0301".repeat(6), 12)).toBe("the password has 6 characters; at least 12 are required (c2s.min_password_length)");
  });
});
