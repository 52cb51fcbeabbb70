/**
 * Console login: password (scrypt), then, when the account has one, a TOTP
 * code (RFC 6238, 30 s steps, one step of clock skew either way), each code
 * good for one login only (section 5.2).
 *
 * Failed attempts back off and then lock: after the k-th consecutive failure
 * the account refuses every attempt for min(2^(k-1), 60) seconds, and after
 * `lockAfter` failures for `lockMinutes`. The wait is kept in the database, so
 * parallel guesses and a second gateway see it too. A new password (demarc
 * officers passwd) unlocks. Unknown names cost a decoy hash, so timing does
 * not say which names exist.
 */
import { Secret, TOTP } from "otpauth";
import { decoyHash, verifyPassword } from "./password.js";
import type { Principal } from "./roles.js";
import { normalName, type OfficerStore } from "./store.js";

export interface LockoutPolicy {
  lockAfter: number;
  lockMinutes: number;
}

export type LoginResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: "invalid" | "need-code" | "locked"; retryAt?: number };

export function totpFor(name: string, secret: string): TOTP {
  return new TOTP({ issuer: "demarc", label: name, algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(secret) });
}

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export async function login(
  officers: OfficerStore,
  policy: LockoutPolicy,
  attempt: { name: string; password: string; code?: string | undefined },
  now: () => number = Date.now,
): Promise<LoginResult> {
  const name = normalName(attempt.name);
  const o = await officers.get(name);
  if (!o || o.kind !== "person" || !o.passwordHash) {
    await verifyPassword(attempt.password, await decoyHash());
    return { ok: false, reason: "invalid" };
  }
  if (o.lockedUntil !== null && o.lockedUntil > now()) return { ok: false, reason: "locked", retryAt: o.lockedUntil };
  const passwordOk = await verifyPassword(attempt.password, o.passwordHash);
  const code = attempt.code?.replace(/\s/g, "") ?? "";
  if (passwordOk && o.totpSecret && code === "") return { ok: false, reason: "need-code" };
  const delta = o.totpSecret && /^\d{6}$/.test(code) ? totpFor(name, o.totpSecret).validate({ token: code, window: 1, timestamp: now() }) : null;
  const step = delta === null ? undefined : Math.floor(now() / 30_000) + delta;
  const codeOk = !o.totpSecret || (step !== undefined && (o.totpStep === null || step > o.totpStep));
  if (passwordOk && codeOk && (await officers.recordLogin(name, o.totpSecret ? step : undefined))) {
    return { ok: true, principal: { name, role: o.role, kind: "person" } };
  }
  const until = (k: number) => now() + (k >= policy.lockAfter ? policy.lockMinutes * 60_000 : Math.min(2 ** (k - 1), 60) * 1000);
  const failures = await officers.recordFailure(name, until);
  return failures >= policy.lockAfter ? { ok: false, reason: "locked", retryAt: until(failures) } : { ok: false, reason: "invalid" };
}
