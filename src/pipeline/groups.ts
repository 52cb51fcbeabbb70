/**
 * One directory of groups for everything that names a group: ethical walls,
 * rules and limits (policy "group:NAME"), presence watch rules (core), and the
 * external-server payload. Its sources are layers: groups written in policy
 * files, `core.groups` in the config, groups set on accounts (`users add
 * --group`, CSV import), and any DirectoryConnector (an LDAP/AD connector
 * implements that interface). A group is the union of its members across
 * layers, so "research" can be a domain pattern in a policy file and a few
 * named accounts at once.
 */
import { lowerCased } from "../model/envelope.js";
import { compileLowerAddressPattern, type AddressMatcher } from "./patterns.js";

export interface GroupSource {
  /** Whether this source defines the group at all. */
  knows(group: string): boolean;
  /** Whether the bare address (user@domain) or domain is a member. */
  isMember(group: string, address: string): boolean;
}

/**
 * A directory the gateway reads groups from. load() returns every group it
 * defines with its members (bare addresses, "*@domain", or domain patterns);
 * it is called at start, on reload and every refresh interval, and a failed
 * load keeps the previous answer.
 */
export interface DirectoryConnector {
  readonly name: string;
  load(): Promise<Record<string, string[]>>;
}

/** One layer's groups, compiled for lookups: exact addresses and domains in sets, globs as matchers. */
export class PatternGroups implements GroupSource {
  private readonly groups = new Map<string, { exact: Set<string>; domains: Set<string>; globs: AddressMatcher[] }>();

  constructor(readonly definitions: Record<string, string[]>) {
    for (const [name, patterns] of Object.entries(definitions)) {
      const g = { exact: new Set<string>(), domains: new Set<string>(), globs: [] as AddressMatcher[] };
      for (const raw of patterns) {
        const p = raw.trim().toLowerCase();
        if (p.includes("*")) g.globs.push(compileLowerAddressPattern(p));
        else if (p.includes("@")) g.exact.add(p);
        else g.domains.add(p);
      }
      this.groups.set(name, g);
    }
  }

  knows(group: string): boolean {
    return this.groups.has(group);
  }

  isMember(group: string, address: string): boolean {
    const g = this.groups.get(group);
    if (!g) return false;
    const a = lowerCased(address);
    if (g.exact.has(a)) return true;
    if (g.domains.size && g.domains.has(a.slice(a.indexOf("@") + 1))) return true;
    for (let i = 0; i < g.globs.length; i++) if (g.globs[i]!(a)) return true;
    return false;
  }

  names(): string[] {
    return [...this.groups.keys()];
  }
}

/** A member in `first` or `rest()` (where either defines the group); known when either defines it. */
export function unionGroups(first: GroupSource, rest: () => GroupSource | undefined): GroupSource {
  return {
    knows: (g) => first.knows(g) || rest()?.knows(g) === true,
    isMember(g, address) {
      if (first.knows(g) && first.isMember(g, address)) return true;
      const other = rest();
      return other !== undefined && other.knows(g) && other.isMember(g, address);
    },
  };
}

export interface DirectoryLog {
  warn(obj: object, msg: string): void;
}

export class GroupDirectory implements GroupSource {
  private readonly layers = new Map<string, PatternGroups>();
  /** The layers again as an array, replaced whole on each change: lookups run per message and walk it without an iterator. */
  private ordered: { name: string; groups: PatternGroups }[] = [];
  private readonly connectors: DirectoryConnector[] = [];

  /** Replaces one layer's groups (policy files on each load, the config on each reload). */
  setLayer(name: string, definitions: Record<string, string[]>): void {
    this.layers.set(name, new PatternGroups(definitions));
    this.ordered = [...this.layers].map(([n, groups]) => ({ name: n, groups }));
  }

  addConnector(c: DirectoryConnector): void {
    this.connectors.push(c);
  }

  /** Reloads every connector; one that fails keeps its previous groups and is reported. */
  async refresh(log?: DirectoryLog): Promise<void> {
    await Promise.all(
      this.connectors.map(async (c) => {
        try {
          this.setLayer(c.name, await c.load());
        } catch (err) {
          log?.warn({ directory: c.name, err: (err as Error).message }, "group directory not refreshed; keeping its previous groups");
        }
      }),
    );
  }

  knows(group: string): boolean {
    return this.knownBy(group, undefined);
  }

  isMember(group: string, address: string): boolean {
    return this.memberIn(group, address, undefined);
  }

  private knownBy(group: string, except: string | undefined): boolean {
    const layers = this.ordered;
    for (let i = 0; i < layers.length; i++) if (layers[i]!.name !== except && layers[i]!.groups.knows(group)) return true;
    return false;
  }

  private memberIn(group: string, address: string, except: string | undefined): boolean {
    const layers = this.ordered;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      if (l.name !== except && l.groups.knows(group) && l.groups.isMember(group, address)) return true;
    }
    return false;
  }

  /** Every group the address belongs to, in any layer (presence watch rules, external servers). */
  groupsOf(address: string): string[] {
    return this.names().filter((g) => this.isMember(g, address));
  }

  names(): string[] {
    return [...new Set([...this.layers.values()].flatMap((l) => l.names()))].sort();
  }

  /** Which layers define the group, for messages and `demarc policy explain`. */
  definedBy(group: string): string[] {
    return [...this.layers].filter(([, l]) => l.knows(group)).map(([n]) => n);
  }

  /** The directory without one layer: policy compilation checks its own groups plus everyone else's. */
  without(layer: string): GroupSource {
    // Reads the layers live, so a refresh reaches policies compiled before it; no allocation per lookup.
    return {
      knows: (group) => this.knownBy(group, layer),
      isMember: (group, address) => this.memberIn(group, address, layer),
    };
  }
}
