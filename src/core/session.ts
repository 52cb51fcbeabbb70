/**
 * One connected device as the access layer sees it: everything a client can
 * do, as method calls. Errors are CoreErrors carrying RFC 6120 conditions.
 */
import { newId } from "../model/id.js";
import { bareOf, domainOf } from "../model/envelope.js";
import type { Envelope } from "../model/envelope.js";
import type { RichPresence } from "../model/presence.js";
import { JidMalformedError, preparedJid } from "../model/jid.js";
import type { RouteResult } from "../model/route.js";
import { CoreError } from "./errors.js";
import type { PresenceCore } from "./core.js";
import type { Device } from "./user.js";
import type { RosterItem, SubscriptionType } from "./types.js";

export interface OutgoingMessage {
  to: string;
  type?: string | undefined;
  body?: string | undefined;
  subject?: string | undefined;
  thread?: string | undefined;
  /** The rest of its content (XHTML, links, files, invitations, nickname, extensions...). */
  content?: Partial<Pick<Envelope, "xhtml" | "links" | "files" | "invites" | "nick" | "replaces" | "signals" | "extensions" | "error">> | undefined;
  /** The stanza id the client gave, kept for receipts and corrections. */
  stanzaId?: string | undefined;
  /** XEP-0280 section 7: not copied to the user's other resources. */
  private?: boolean | undefined;
  protocol?: "xmpp" | "internal" | undefined;
  /** A message carrying a file-transfer link goes to the profiles for file-transfer. */
  kind?: "message" | "file-transfer" | undefined;
}

/** RFC 7622 validation; a bad address is jid-malformed (RFC 6120 8.3.3.8). */
export function checkJid(input: string): string {
  try {
    return preparedJid(input);
  } catch (err) {
    if (err instanceof JidMalformedError) throw new CoreError("jid-malformed", "modify", err.message);
    throw err;
  }
}

function tagsOf(m: OutgoingMessage): string[] | undefined {
  if (!m.private) return m.stanzaId ? [`stanza-id:${m.stanzaId}`] : undefined;
  return m.stanzaId ? ["carbons:private", `stanza-id:${m.stanzaId}`] : ["carbons:private"];
}

export class CoreSession {
  private closed = false;

  constructor(
    private readonly core: PresenceCore,
    readonly device: Device,
  ) {}

  get jid(): string {
    return this.device.full;
  }
  get bare(): string {
    return this.device.user.jid;
  }
  get active(): boolean {
    return !this.closed && this.device.user.devices.get(this.device.resource) === this.device;
  }

  roster(): RosterItem[] {
    return this.core.parts.roster.get(this.device);
  }

  async rosterSet(jid: string, name: string | undefined, groups: string[]): Promise<void> {
    const bare = checkJid(jid);
    if (bare.includes("/")) throw new CoreError("bad-request", "modify", "roster items are bare JIDs");
    await this.core.parts.roster.set(this.device, bare, name, groups);
  }

  async rosterRemove(jid: string): Promise<void> {
    await this.core.parts.roster.remove(this.device, bareOf(checkJid(jid)));
  }

  /** Broadcast presence (no 'to'); offline messages follow the first available presence. */
  async presence(p: RichPresence, priority: number): Promise<void> {
    p = await this.screened(p, this.bare);
    const wasAvailable = this.device.available;
    this.core.parts.presence.update(this.device, p, Math.max(-128, Math.min(127, priority)));
    if (!wasAvailable && this.device.available) await this.core.parts.messages.flushOffline(this.device);
  }

  /** Directed presence (RFC 6121 4.6); undefined = unavailable. */
  async directed(to: string, p: RichPresence | undefined): Promise<void> {
    const target = checkJid(to);
    await this.core.parts.presence.directed(this.device, target, p && (await this.screened(p, target)));
  }

  async subscription(to: string, type: SubscriptionType): Promise<void> {
    await this.core.parts.roster.outbound(this.device, bareOf(checkJid(to)), type);
  }

  /**
   * A status line goes to local contacts straight from the core, not through
   * the router: compliance sees it here once, as internal presence. A refused
   * status is withheld (the state still shows); a redacted one travels redacted.
   */
  private async screened(p: RichPresence, to: string): Promise<RichPresence> {
    const screen = this.core.screen;
    if (!screen || p.note === undefined) return p;
    const s = this.core.parts.s;
    const decided = await screen(s.envelope({ direction: "internal", protocol: "xmpp", kind: "presence", from: this.device.full, to: bareOf(to), presence: p, security: this.device.security }));
    return { ...p, note: decided?.presence?.note };
  }

  /** Sends a message through the router; the result says whether it was delivered, or why not. */
  async message(m: OutgoingMessage): Promise<RouteResult> {
    const to = checkJid(m.to);
    const u = this.device.user;
    if (u.blocks.has(bareOf(to))) {
      // XEP-0191 3.5: the user may not write to someone they blocked.
      return { delivered: false, error: { condition: "not-acceptable", type: "cancel", text: `${bareOf(to)} is blocked` } };
    }
    const s = this.core.parts.s;
    const outbound = !s.isHosted(to);
    // One literal and assignments: spreading the direction and then the whole envelope into a copy cost more than the rest of this method.
    const e: Envelope = {
      id: newId(),
      receivedAt: Date.now(),
      direction: outbound ? "outbound" : "internal",
      protocol: m.protocol ?? "xmpp",
      kind: m.kind ?? "message",
      from: this.device.full,
      to,
      type: m.type ?? "normal",
      body: m.body,
      subject: m.subject,
      thread: m.thread,
    };
    if (outbound) e.partnerDomain = domainOf(to);
    if (m.content) Object.assign(e, m.content);
    e.security = this.device.security;
    e.tags = tagsOf(m);
    this.core.parts.messages.pin(this.device, to);
    const r = await s.send(e, this.device.route);
    if (r.delivered) this.core.parts.messages.sent(this.device, r.envelope);
    return r;
  }

  /** XEP-0280 section 4: enable or disable carbons for this resource. */
  carbons(enabled: boolean): void {
    this.device.carbons = enabled;
  }

  blockList(): string[] {
    this.device.interested = true;
    return [...this.device.user.blocks].sort();
  }

  async block(jids: string[]): Promise<void> {
    if (jids.length === 0) throw new CoreError("bad-request", "modify", "no JID to block");
    await this.core.setBlocked(this.device.user, jids.map((j) => checkJid(j)), true);
  }

  /** No JIDs = unblock everyone (XEP-0191 3.4). */
  async unblock(jids: string[]): Promise<void> {
    await this.core.setBlocked(this.device.user, jids.map((j) => checkJid(j)), false);
  }

  /** A message this device took but never acknowledged goes to the user's other resources or offline. */
  async redeliver(e: Envelope): Promise<void> {
    await this.core.parts.messages.redeliver(e, this.device);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.core.disconnect(this.device);
  }
}
