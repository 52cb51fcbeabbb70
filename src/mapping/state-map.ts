/**
 * The partner state map (policies/state-map.yaml, `kind: state-map`): for each
 * partner profile, how each rich state is sent and how each partner state maps
 * back. The map is data so operators can change what a partner sees without a
 * release; the shipped file holds the defaults of Table 20-2.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isMap, parseDocument } from "yaml";
import { z } from "zod";
import { ConfigError } from "../errors.js";
import { RICH_STATES, type RichState } from "../model/presence.js";

export const PROFILES = ["lync", "aol", "xmpp-rich", "xmpp-basic"] as const;
export type Profile = (typeof PROFILES)[number];

/** States a SIP partner can be told or can tell us (PIDF basic, RPID activities, Lync availability). */
export const SIP_STATES = [
  "available",
  "available-idle",
  "idle",
  "away",
  "be-right-back",
  "busy",
  "busy-idle",
  "do-not-disturb",
  "on-the-phone",
  "meeting",
  "offline",
] as const;
export type SipState = (typeof SIP_STATES)[number];

const richState = z.enum(RICH_STATES);
const profileSchema = z
  .object({
    send: z.record(richState, z.string()),
    receive: z.record(z.string(), richState),
    receive_other: richState.default("away"),
  })
  .strict();

const fileSchema = z
  .object({
    kind: z.literal("state-map"),
    profiles: z.object(Object.fromEntries(PROFILES.map((p) => [p, profileSchema])) as Record<Profile, typeof profileSchema>).strict(),
  })
  .strict();

type ProfileMap = z.infer<typeof profileSchema>;

export class StateMap {
  constructor(private readonly profiles: Record<Profile, ProfileMap>) {}

  /** The partner state a rich state is sent as. */
  send(profile: Profile, state: RichState): string {
    return this.profiles[profile].send[state] ?? state;
  }

  /** The rich state a partner state maps back to. */
  receive(profile: Profile, partnerState: string): RichState {
    const p = this.profiles[profile];
    return p.receive[partnerState] ?? p.receive_other;
  }
}

function allowedSends(profile: Profile): readonly string[] {
  return profile === "lync" || profile === "aol" ? SIP_STATES : RICH_STATES;
}

/** Parses and checks a state-map document; errors name the file and key path. */
export function parseStateMap(text: string, source: string): StateMap {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new ConfigError(`${source}: ${doc.errors[0]!.message.split("\n")[0]}`);
  if (!isMap(doc.contents)) throw new ConfigError(`${source}: expected a mapping with kind: state-map`);
  const parsed = fileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${source}: ${issue.path.join(".") || "(top)"}: ${issue.message}`);
  }
  for (const profile of PROFILES) {
    const p = parsed.data.profiles[profile];
    for (const state of RICH_STATES) {
      const to = p.send[state];
      if (to === undefined) throw new ConfigError(`${source}: profiles.${profile}.send.${state}: missing`);
      if (!allowedSends(profile).includes(to)) {
        throw new ConfigError(`${source}: profiles.${profile}.send.${state}: "${to}" is not one of ${allowedSends(profile).join(", ")}`);
      }
    }
  }
  return new StateMap(parsed.data.profiles as Record<Profile, ProfileMap>);
}

/** The shipped defaults; the package carries them beside its code. */
export const SHIPPED_STATE_MAP = fileURLToPath(new URL("../../policies/state-map.yaml", import.meta.url));

export function loadStateMap(path: string): StateMap {
  return parseStateMap(readFileSync(path, "utf8"), path);
}

/** policies/state-map.yaml in the operator's policy folder, else the shipped defaults. */
export function loadStateMapFrom(policyDir: string): StateMap {
  const own = `${policyDir}/state-map.yaml`;
  return loadStateMap(existsSync(own) ? own : SHIPPED_STATE_MAP);
}

let shipped: StateMap | undefined;

/** The shipped defaults, read once: they are part of the package and never change while it runs. */
export function shippedStateMap(): StateMap {
  shipped ??= loadStateMap(SHIPPED_STATE_MAP);
  return shipped;
}

/**
 * The state map in force for one gateway: the operator's, once loaded (the
 * SIP edge loads it at start and on reload), else the shipped one. The
 * composition root makes one and hands it to every edge that renders presence.
 */
export class PresenceStates {
  private map: StateMap | undefined;

  get current(): StateMap {
    return this.map ?? shippedStateMap();
  }

  use(map: StateMap): void {
    this.map = map;
  }
}
