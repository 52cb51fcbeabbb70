/**
 * Officer passwords, hashed with scrypt (RFC 7914), which Node has built in.
 * scrypt is memory-hard: each guess needs N * r * 128 bytes (here 32 MiB) of
 * memory as well as time, so the GPUs and ASICs that make fast work of
 * SHA-2 or PBKDF2 guesses gain little. argon2id would be the other choice,
 * but it needs a native package. The parameters are one of the settings the
 * OWASP Password Storage Cheat Sheet lists as equivalent for scrypt
 * (N=2^15, r=8, p=3).
 *
 * Stored as "scrypt$N$r$p$salt$hash" (base64), so the cost can rise later
 * and old hashes still verify.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** N=2^15, r=8, p=3: 32 MiB per guess, about 0.4 s on one busy core of the test machines. */
const PARAMS = { N: 1 << 15, r: 8, p: 3 } as const;
const KEYLEN = 32;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

function derive(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem above 128 * N * r, which Node's default (32 MiB) does not leave room for.
    scrypt(password.normalize("NFC"), salt, KEYLEN, { N, r, p, maxmem: 256 * N * r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Why a password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  const n = [...password].length;
  if (n < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters (this one has ${n})`;
  if (n > MAX_PASSWORD_LENGTH) return `a password is limited to ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS.N, PARAMS.r, PARAMS.p);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const expected = Buffer.from(parts[5]!, "base64");
  const key = await derive(password.slice(0, MAX_PASSWORD_LENGTH * 4), Buffer.from(parts[4]!, "base64"), N, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of nothing anyone knows, checked for unknown names so they take as long as known ones. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(24).toString("base64"));
  return decoy;
}
