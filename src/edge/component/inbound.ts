/**
 * What an internal server sends the edge on one component stream: internal
 * users' stanzas for the partner the stream serves. Each is checked (from a
 * domain that server hosts, to the partner's domain), turned into an outbound
 * Envelope and routed; a refusal goes back to the sender as a stanza error on
 * the same stream. Stanzas of one stream are routed in order (RFC 6120
 * section 10.1); while too many wait, the socket is not read.
 */
import type { Logger } from "../../log.js";
import { domainOf } from "../../model/envelope.js";
import type { Router } from "../../router/router.js";
import { StanzaError, answerDomainIq, isDomainIq, mayReplyWithError, type Element } from "../../xmpp/index.js";
import type { ComponentLink } from "./link.js";
import type { ComponentMetrics } from "./metrics.js";
import { componentStanzaToEnvelope, inComponentNamespace } from "../../xmpp/index.js";

const BACKLOG_PAUSE = 64;
const BACKLOG_RESUME = 16;

export interface LinkInboundEnv {
  log: Logger;
  router: Router;
  /** Domains the internal server behind this link hosts: the only from-domains it may use. */
  hosted: Set<string>;
  metrics: ComponentMetrics;
}

export class LinkInbound {
  private chain: Promise<void> = Promise.resolve();
  private backlog = 0;

  constructor(
    private readonly link: ComponentLink,
    private readonly env: LinkInboundEnv,
  ) {
    link.on("stanza", (el) => this.enqueue(el));
  }

  /** Resolves when every stanza taken so far has been routed. */
  drain(): Promise<void> {
    return this.chain;
  }

  private enqueue(el: Element): void {
    this.backlog++;
    if (this.backlog >= BACKLOG_PAUSE) this.link.pause();
    this.chain = this.chain
      .then(() => this.handle(el))
      .catch((err) => this.env.log.error({ link: this.link.name, err: (err as Error).message }, "component stanza handling failed"))
      .finally(() => {
        this.backlog--;
        if (this.backlog <= BACKLOG_RESUME) this.link.resume();
      });
  }

  private async handle(el: Element): Promise<void> {
    if (el.name !== "message" && el.name !== "presence" && el.name !== "iq") return;
    const problem = this.check(el);
    if (problem) {
      this.env.log.warn({ link: this.link.name, stanza: el.name, problem: problem.text }, "component stanza refused");
      return this.reply(el, problem);
    }
    if (isDomainIq(el)) {
      const answer = answerDomainIq(el);
      if (answer) this.send(inComponentNamespace(answer));
      return;
    }
    const env = componentStanzaToEnvelope(el, this.link.opts.domain, { auth: "password", remoteAddress: this.link.opts.host });
    const result = await this.env.router.route(env);
    this.env.metrics.stanzas.inc({ direction: "from-internal", result: result.delivered ? "delivered" : "refused" });
    if (!result.delivered) {
      this.env.log.info({ id: env.id, link: this.link.name, condition: result.error.condition }, "component stanza refused");
      this.reply(el, StanzaError.from(result.error, this.link.opts.domain));
    }
  }

  /** The addresses an internal server may use on this stream (XEP-0114 leaves them to the component to check). */
  private check(el: Element): StanzaError | undefined {
    const { from, to } = el.attrs;
    if (!from || !to) return new StanzaError("bad-request", "from and to are required on a component stream");
    if (!this.env.hosted.has(domainOf(from))) return new StanzaError("forbidden", `${domainOf(from)} is not hosted by this internal server`);
    const toDomain = domainOf(to);
    const partner = this.link.opts.domain;
    if (toDomain !== partner && !toDomain.endsWith(`.${partner}`)) return new StanzaError("item-not-found", `this component serves ${partner}`);
    return undefined;
  }

  private reply(el: Element, err: StanzaError): void {
    if (mayReplyWithError(el)) this.send(inComponentNamespace(err.toElement(el)));
  }

  private send(el: Element): void {
    try {
      this.link.send(el);
    } catch (err) {
      this.env.log.info({ link: this.link.name, err: (err as Error).message }, "component reply not sent");
    }
  }
}
