/**
 * Account credentials as stored by the core (opaque to it): one salted SCRAM
 * credential per supported hash, derived from the password once, at
 * provisioning time. The password itself is never stored.
 */
import { opaqueString } from "../../model/precis.js";
import { deriveCredential, type ScramCredential, type ScramHash } from "./scram.js";

export type Credentials = Partial<Record<"SCRAM-SHA-1" | "SCRAM-SHA-256", ScramCredential>>;

export function makeCredentials(password: string, iterations = 4096): Credentials {
  if (password.length === 0) throw new Error("empty password");
  return {
    "SCRAM-SHA-256": deriveCredential("SHA-256", password, iterations),
    "SCRAM-SHA-1": deriveCredential("SHA-1", password, iterations),
  };
}

/**
 * A new password's problem, or undefined when it is acceptable: valid as an
 * OpaqueString (RFC 8265 4.2) and at least minLength characters (code points,
 * after preparation) long. Only new passwords are checked: credentials made
 * before a longer minimum keep working.
 */
export function passwordProblem(password: string, minLength: number): string | undefined {
  let prepared: string;
  try {
    prepared = opaqueString(password, "the password");
  } catch (err) {
    return (err as Error).message;
  }
  const n = [...prepared].length;
  return n < minLength ? `the password has ${n} character${n === 1 ? "" : "s"}; at least ${minLength} are required (c2s.min_password_length)` : undefined;
}

export function credentialFor(creds: Record<string, unknown> | undefined, hash: ScramHash): ScramCredential | undefined {
  const c = creds?.[hash === "SHA-1" ? "SCRAM-SHA-1" : "SCRAM-SHA-256"] as ScramCredential | undefined;
  return c && typeof c.salt === "string" && typeof c.storedKey === "string" && typeof c.serverKey === "string" && Number.isInteger(c.iterations) ? c : undefined;
}
