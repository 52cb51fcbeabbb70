/**
 * Account credentials as stored by the core (opaque to it): one salted SCRAM
 * credential per supported hash, derived from the password once, at
 * provisioning time. The password itself is never stored.
 */
import { deriveCredential, type ScramCredential, type ScramHash } from "./scram.js";

export type Credentials = Partial<Record<"SCRAM-SHA-1" | "SCRAM-SHA-256", ScramCredential>>;

export function makeCredentials(password: string, iterations = 4096): Credentials {
  if (password.length === 0) throw new Error("empty password");
  return {
    "SCRAM-SHA-256": deriveCredential("SHA-256", password, iterations),
    "SCRAM-SHA-1": deriveCredential("SHA-1", password, iterations),
  };
}

export function credentialFor(creds: Record<string, unknown> | undefined, hash: ScramHash): ScramCredential | undefined {
  const c = creds?.[hash === "SHA-1" ? "SCRAM-SHA-1" : "SCRAM-SHA-256"] as ScramCredential | undefined;
  return c && typeof c.salt === "string" && typeof c.storedKey === "string" && typeof c.serverKey === "string" && Number.isInteger(c.iterations) ? c : undefined;
}
