/**
 * Console roles, each including the one below it: a reviewer searches, reads
 * and exports; an officer also decides quarantined messages, places and
 * releases legal holds, and reads policy, partner and audit reports; an admin
 * also manages accounts and retention.
 */
export const ROLES = ["reviewer", "officer", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(v: string): v is Role {
  return (ROLES as readonly string[]).includes(v);
}

/** Whether someone holding `held` may do what needs `need`. */
export function allows(held: Role, need: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(need);
}

/** Who is acting: a person logged into the console, or the API token's service account. */
export interface Principal {
  name: string;
  role: Role;
  kind: "person" | "service";
}

/** "a reviewer", "an officer", "an admin": for messages. */
export const article = (role: Role) => `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
