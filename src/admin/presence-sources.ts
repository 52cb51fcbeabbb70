/**
 * Presence from systems other than clients: a PBX says who is on the phone, a
 * calendar who is in a meeting, an operator sets a manual state. Each is a
 * source of the user's aggregate presence (src/core/aggregate.ts gives the
 * precedence). A connector that dies must not leave someone "in a meeting"
 * for ever, so a source can carry an expiry after which it clears itself.
 *
 *   PUT    /api/presence/:jid/:source   { "state": "on-the-phone", "note": "...", "expires_s": 3600 }
 *   DELETE /api/presence/:jid/:source
 *   GET    /api/presence/:jid
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { PresenceCore } from "../core/core.js";
import { CoreError } from "../core/errors.js";
import type { PresenceSource } from "../core/types.js";
import type { Logger } from "../log.js";
import { RICH_STATES } from "../model/presence.js";

const SOURCES = ["phone", "calendar", "manual"] as const satisfies readonly PresenceSource[];
const MAX_EXPIRES_S = 7 * 86_400;

const params = z.object({ jid: z.string().min(3).max(3071), source: z.enum(SOURCES) });
const body = z
  .object({
    state: z.enum(RICH_STATES),
    note: z.string().max(1024).optional(),
    expires_s: z.number().int().min(1).max(MAX_EXPIRES_S).optional(),
  })
  .strict();

export interface PresenceSourceOptions {
  core: PresenceCore;
  log: Logger;
}

function problem(reply: FastifyReply, status: number, message: string) {
  return reply.code(status).send({ error: message });
}

/** One line an integrator can act on: the first schema issue with its field. */
function issueText(err: z.ZodError): string {
  const i = err.issues[0]!;
  return `${i.path.join(".") || "body"}: ${i.message}`;
}

export async function presenceSourceRoutes(app: FastifyInstance, opts: PresenceSourceOptions): Promise<void> {
  const expiries = new Map<string, NodeJS.Timeout>();
  const clearTimer = (key: string) => {
    clearTimeout(expiries.get(key));
    expiries.delete(key);
  };
  app.addHook("onClose", async () => {
    for (const t of expiries.values()) clearTimeout(t);
    expiries.clear();
  });

  const set = async (jid: string, source: PresenceSource, value: z.infer<typeof body> | undefined, reply: FastifyReply) => {
    const key = `${jid.toLowerCase()}\n${source}`;
    try {
      await opts.core.setSource(jid, source, value && { state: value.state, note: value.note });
    } catch (err) {
      if (err instanceof CoreError && err.condition === "item-not-found") return problem(reply, 404, err.text ?? "no such account");
      if (err instanceof CoreError) return problem(reply, 400, err.message);
      throw err;
    }
    clearTimer(key);
    if (value?.expires_s) {
      const timer = setTimeout(() => {
        expiries.delete(key);
        opts.core.setSource(jid, source, undefined).catch((e: Error) => opts.log.warn({ jid, source, err: e.message }, "expired presence source not cleared"));
      }, value.expires_s * 1000);
      timer.unref();
      expiries.set(key, timer);
    }
    return reply.code(204).send();
  };

  app.put("/:jid/:source", async (req, reply) => {
    const p = params.safeParse(req.params);
    if (!p.success) return problem(reply, 400, issueText(p.error));
    const b = body.safeParse(req.body);
    if (!b.success) return problem(reply, 400, issueText(b.error));
    return set(p.data.jid, p.data.source, b.data, reply);
  });

  app.delete("/:jid/:source", async (req, reply) => {
    const p = params.safeParse(req.params);
    if (!p.success) return problem(reply, 400, issueText(p.error));
    return set(p.data.jid, p.data.source, undefined, reply);
  });

  app.get("/:jid", async (req, reply) => {
    const jid = String((req.params as { jid: string }).jid).toLowerCase();
    const user = await opts.core.users.load(jid);
    if (!user) return problem(reply, 404, `no account ${jid}`);
    return { jid, presence: opts.core.presenceOf(jid), sources: Object.fromEntries(user.sources) };
  });
}
