/**
 * Who belongs to which group, for rules and ethical walls. Policy files define
 * groups as lists of address patterns; a directory (the presence core, LDAP)
 * can answer for groups it knows through the same small interface.
 */
import { compileAddressPattern, type AddressMatcher } from "./patterns.js";

export interface GroupSource {
  /** Whether this source defines the group at all. */
  knows(group: string): boolean;
  /** Whether the bare address (user@domain) or domain is a member. */
  isMember(group: string, address: string): boolean;
}

/** Groups written in policy files: each a list of user and domain patterns. */
export class PatternGroups implements GroupSource {
  private readonly groups = new Map<string, AddressMatcher[]>();

  constructor(definitions: Record<string, string[]>) {
    for (const [name, patterns] of Object.entries(definitions)) {
      this.groups.set(name, patterns.map(compileAddressPattern));
    }
  }

  knows(group: string): boolean {
    return this.groups.has(group);
  }

  isMember(group: string, address: string): boolean {
    return this.groups.get(group)?.some((m) => m(address)) ?? false;
  }

  names(): string[] {
    return [...this.groups.keys()];
  }
}

/** Asks each source in turn; the first that knows the group answers. */
export function chainGroups(sources: () => (GroupSource | undefined)[]): GroupSource {
  return {
    knows: (g) => sources().some((s) => s?.knows(g)),
    isMember(g, address) {
      for (const s of sources()) if (s?.knows(g)) return s.isMember(g, address);
      return false;
    },
  };
}
