/**
 * The quarantine review API on the admin server. It lives in the gateway
 * because a release is a delivery and only the gateway holds the listeners and
 * the partner streams. Every request acts for the account its credential
 * names (admin.token's service account, src/admin/principal.ts): listing
 * needs the reviewer role, deciding the officer role, and the audit trail
 * records that account. A request cannot name its own actor.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Logger } from "../log.js";
import type { Principal } from "../officers/roles.js";
import { requireRole } from "./principal.js";
import { describeReview, pendingItem, type QuarantineDesk, type ReviewOutcome } from "../archive/quarantine.js";

export interface QuarantineRoutesOptions {
  desk: QuarantineDesk;
  log: Logger;
  /** Who the request acts for, from its credential; undefined when it has none. */
  principal: (req: FastifyRequest) => Principal | undefined;
  /** admin.console.four_eyes: decisions need two officers, which only the console can gather. */
  fourEyes: () => boolean;
}

const FOUR_EYES = "four-eyes review is on (admin.console.four_eyes): decide in the review console, where a second officer confirms";
const NO_ACTOR = "actor cannot be declared: decisions are recorded under the account the request authenticates as";

const listQuery = z
  .object({
    limit: z.coerce.number({ error: "limit must be a number" }).int("limit must be a whole number").min(1, "limit must be from 1 to 1000").max(1000, "limit must be from 1 to 1000").default(100),
    after: z.coerce.number({ error: "after must be a record number" }).int("after must be a record number").min(0, "after must be a record number").default(0),
    actor: z.never({ error: NO_ACTOR }).optional(),
  })
  .strict();

const reviewBody = z
  .object(
    {
      actor: z.never({ error: NO_ACTOR }).optional(),
      comment: z.string({ error: "comment must be text" }).max(4000, "comment is limited to 4000 characters").optional(),
    },
    { error: 'the body must be a JSON object: {"comment": "..."}' },
  )
  .strict();

const idParam = z.object({ id: z.string().regex(/^[1-9]\d{0,14}$/, "the id is a record number (#N in demarc archive quarantine list)") });

const STATUS: Record<ReviewOutcome["status"], number> = {
  released: 200,
  rejected: 200,
  unknown: 404,
  reviewed: 409,
  purged: 410,
  unreleasable: 422,
  failed: 502,
};

class BadRequest extends Error {
  readonly statusCode = 400;
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  throw new BadRequest(issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}` : `${where}${issue.message}`);
}

function answer(reply: FastifyReply, o: ReviewOutcome) {
  reply.code(STATUS[o.status]);
  switch (o.status) {
    case "released":
      return { status: o.status, id: o.record.seq, to: o.envelope.to, delivered: true, review: { ...o.review, at: new Date(o.review.at).toISOString() } };
    case "rejected":
      return { status: o.status, id: o.record.seq, review: { ...o.review, at: new Date(o.review.at).toISOString() } };
    case "reviewed":
      return { error: o.message, review: { ...o.review, at: new Date(o.review.at).toISOString() } };
    case "failed":
      return { error: o.message, condition: o.error.condition, text: o.error.text ?? null };
    default:
      return { error: o.message };
  }
}

export const quarantineRoutes: FastifyPluginAsync<QuarantineRoutesOptions> = async (app, { desk, log, principal, fourEyes }) => {
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err: err.message }, "quarantine API failed");
    const message =
      err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" ? `the body must be application/json, not ${req.headers["content-type"] ?? "untyped"}`
      : err.code === "FST_ERR_CTP_EMPTY_JSON_BODY" ? 'the body must be a JSON object: {"comment": "..."}'
      : status === 500 ? `internal error: ${err.message.split("\n")[0]}`
      : err.message;
    return reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no such quarantine API route: ${req.method} ${req.url}` }));

  app.get("/", async (req, reply) => {
    const who = requireRole(principal(req), "reviewer", reply);
    if (!who) return reply;
    const q = parse(listQuery, req.query);
    const rows = await desk.pending(who.name, { afterSeq: q.after, limit: q.limit });
    const last = rows[rows.length - 1];
    return { items: rows.map(pendingItem), next: rows.length === q.limit && last ? last.seq : null };
  });

  app.post("/:id/release", async (req, reply) => {
    const who = requireRole(principal(req), "officer", reply);
    if (!who) return reply;
    const { id } = parse(idParam, req.params);
    const body = parse(reviewBody, req.body);
    if (fourEyes()) return reply.code(409).send({ error: FOUR_EYES });
    const o = await desk.release({ seq: Number(id), actor: who.name, comment: body.comment });
    if (o.status === "released") log.info({ id: o.record.seq, to: o.envelope.to, review: describeReview(o.review) }, "quarantined record released");
    if (o.status === "failed") log.warn({ id, condition: o.error.condition, text: o.error.text, actor: who.name }, "quarantined record not delivered on release");
    return answer(reply, o);
  });

  app.post("/:id/reject", async (req, reply) => {
    const who = requireRole(principal(req), "officer", reply);
    if (!who) return reply;
    const { id } = parse(idParam, req.params);
    const body = parse(reviewBody, req.body);
    if (fourEyes()) return reply.code(409).send({ error: FOUR_EYES });
    const o = await desk.reject({ seq: Number(id), actor: who.name, comment: body.comment });
    if (o.status === "rejected") log.info({ id: o.record.seq, review: describeReview(o.review) }, "quarantined record rejected");
    return answer(reply, o);
  });
};
