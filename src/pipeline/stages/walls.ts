/**
 * Ethical walls: groups of users or domains that may not reach each other, for
 * every kind of traffic unless the wall names kinds (presence and
 * subscriptions included, so a wall also hides who is online). A wall is
 * two-way unless both_ways is false.
 */
import { bareOf } from "../../model/envelope.js";
import type { CompiledWall } from "../policy/compile.js";
import type { Stage, Verdict } from "../stage.js";

export const WALL_TEXT = "Communication between these parties is not permitted by an information barrier.";

export function wallsStage(walls: CompiledWall[]): Stage {
  return {
    name: "walls",
    evaluate({ envelope }): Verdict[] {
      const from = bareOf(envelope.from);
      const to = bareOf(envelope.to);
      const out: Verdict[] = [];
      for (const w of walls) {
        if (!w.def.enabled) continue;
        if (w.def.kinds && !w.def.kinds.includes(envelope.kind)) continue;
        if (!w.crosses(from, to)) continue;
        out.push({ action: "block", ruleId: w.def.id, shadow: w.def.shadow, reason: w.def.reason ?? WALL_TEXT });
        if (!w.def.shadow) break;
      }
      return out;
    },
  };
}
