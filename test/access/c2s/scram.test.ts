import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ScramServer, deriveCredential, verifyPassword, type ScramHash } from "../../../src/access/c2s/scram.js";

const b64 = (b: Buffer) => b.toString("base64");

/** A client side written straight from RFC 5802 section 3, to drive the server. */
function clientFinal(hash: ScramHash, password: string, clientFirstBare: string, serverFirst: string, gs2 = "n,,") {
  const alg = hash === "SHA-1" ? "sha1" : "sha256";
  const attrs = Object.fromEntries(serverFirst.split(",").map((p) => [p[0], p.slice(2)]));
  const sp = pbkdf2Sync(password, Buffer.from(attrs.s!, "base64"), Number(attrs.i), hash === "SHA-1" ? 20 : 32, alg);
  const clientKey = createHmac(alg, sp).update("Client Key").digest();
  const storedKey = createHash(alg).update(clientKey).digest();
  const withoutProof = `c=${b64(Buffer.from(gs2))},r=${attrs.r}`;
  const auth = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const sig = createHmac(alg, storedKey).update(auth).digest();
  const proof = Buffer.from(clientKey.map((x, i) => x ^ sig[i]!));
  const serverKey = createHmac(alg, sp).update("Server Key").digest();
  return { message: `${withoutProof},p=${b64(proof)}`, serverSignature: `v=${b64(createHmac(alg, serverKey).update(auth).digest())}` };
}

const fake = () => Buffer.alloc(16, 7);

describe("SCRAM server", () => {
  it("reproduces the RFC 7677 section 3 SCRAM-SHA-256 example", async () => {
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
    const cred = deriveCredential("SHA-256", "pencil", 4096, salt);
    const s = new ScramServer("SHA-256", async (u) => (u === "user" ? cred : undefined), fake, () => "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    const sf = await s.first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    expect(sf).toBe("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    const final = s.final("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    expect(final).toBe("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  });

  it("reproduces the RFC 5802 section 5 SCRAM-SHA-1 example", async () => {
    const cred = deriveCredential("SHA-1", "pencil", 4096, Buffer.from("QSXCR+Q6sek8bf92", "base64"));
    const s = new ScramServer("SHA-1", async () => cred, fake, () => "3rfcNHYJY1ZVvWVs7j");
    expect(await s.first("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")).toBe("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    expect(s.final("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")).toBe("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
  });

  it("refuses a wrong password, an unknown user (with a plausible salt), and channel binding", async () => {
    const cred = deriveCredential("SHA-256", "right");
    const s = new ScramServer("SHA-256", async () => cred, fake);
    const sf = await s.first("n,,n=alice,r=abc");
    expect(() => s.final(clientFinal("SHA-256", "wrong", "n=alice,r=abc", sf).message)).toThrow(/not-authorized/);
    const u = new ScramServer("SHA-256", async () => undefined, fake);
    const usf = await u.first("n,,n=ghost,r=abc");
    expect(usf).toContain(`s=${b64(fake())}`);
    expect(() => u.final(clientFinal("SHA-256", "x", "n=ghost,r=abc", usf).message)).toThrow(/not-authorized/);
    await expect(new ScramServer("SHA-256", async () => cred, fake).first("p=tls-unique,,n=a,r=b")).rejects.toMatchObject({ condition: "not-authorized" });
    await expect(new ScramServer("SHA-256", async () => cred, fake).first("garbage")).rejects.toMatchObject({ condition: "malformed-request" });
  });

  it("accepts the right password end to end and checks PLAIN against the same credential", async () => {
    for (const hash of ["SHA-1", "SHA-256"] as const) {
      const cred = deriveCredential(hash, "sécret");
      const s = new ScramServer(hash, async () => cred, fake);
      const sf = await s.first("n,,n=bob,r=nonce1");
      const c = clientFinal(hash, "sécret", "n=bob,r=nonce1", sf);
      expect(s.final(c.message)).toBe(c.serverSignature);
      expect(verifyPassword(hash, cred, "sécret")).toBe(true);
      expect(verifyPassword(hash, cred, "secret")).toBe(false);
    }
  });
});
