import { PresenceCore, type CoreOptions } from "../../src/core/core.js";
import type { CoreSession } from "../../src/core/session.js";
import { MemoryStore } from "../../src/core/store.js";
import type { CoreEvent, DeviceSink } from "../../src/core/types.js";

export class Sink implements DeviceSink {
  events: CoreEvent[] = [];
  push(e: CoreEvent): void {
    this.events.push(e);
  }
  take(): CoreEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }
  of<K extends CoreEvent["kind"]>(kind: K): Extract<CoreEvent, { kind: K }>[] {
    return this.events.filter((e) => e.kind === kind) as Extract<CoreEvent, { kind: K }>[];
  }
  bodies(): (string | undefined)[] {
    return this.of("message").filter((m) => !m.carbon).map((m) => m.envelope.body);
  }
}

export async function makeCore(users: string[], opts: Partial<CoreOptions> = {}) {
  const store = (opts.store as MemoryStore | undefined) ?? new MemoryStore();
  for (const jid of users) await store.putUser({ jid, credentials: {} });
  const core = new PresenceCore({ domains: ["corp.test"], store, ...opts });
  return { core, store };
}

export async function online(core: PresenceCore, jid: string, resource: string, priority = 0) {
  const sink = new Sink();
  const s: CoreSession = await core.connect(jid, resource, sink);
  s.roster();
  await s.presence({ state: "available" }, priority);
  return { s, sink };
}

/** Lets fire-and-forget routing settle. */
export const settle = () => new Promise((r) => setImmediate(r));
