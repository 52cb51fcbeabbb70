/**
 * RFC 6121 section 3 and Appendix A: the subscription state machine, as pure
 * functions. Each takes the roster item the user holds for the contact (or
 * none) and says what the item becomes and what the server must do. The core
 * applies the effects; tests drive these tables directly.
 */
import type { RosterItem, Subscription, SubscriptionType } from "./types.js";

export interface Transition {
  /** The item after the stanza; undefined = no item (or leave it absent). */
  item: RosterItem | undefined;
  /** The item changed: persist it and push it to interested resources (RFC 6121 2.1.6). */
  changed: boolean;
  /** Outbound: route the stanza to the contact. Inbound: deliver it to the user's resources. */
  forward: boolean;
  /** Inbound only: the server answers for the user (RFC 6121 3.1.3 auto-reply, 3.4 pre-approval). */
  autoReply?: "subscribed" | "unsubscribed" | undefined;
  /** Send the user's current presence to the contact (RFC 6121 3.1.5). */
  sendPresence?: boolean | undefined;
  /** Send unavailable presence from the user's resources to the contact (RFC 6121 3.2.3, 3.3.3). */
  sendUnavailable?: boolean | undefined;
}

export function emptyItem(jid: string): RosterItem {
  return { jid, groups: [], subscription: "none", ask: false, pendingIn: false, approved: false, hidden: false };
}

const hasFrom = (s: Subscription) => s === "from" || s === "both";
const hasTo = (s: Subscription) => s === "to" || s === "both";
const addTo = (s: Subscription): Subscription => (s === "from" || s === "both" ? "both" : "to");
const addFrom = (s: Subscription): Subscription => (s === "to" || s === "both" ? "both" : "from");
const dropTo = (s: Subscription): Subscription => (s === "both" ? "from" : s === "to" ? "none" : s);
const dropFrom = (s: Subscription): Subscription => (s === "both" ? "to" : s === "from" ? "none" : s);

function same(a: RosterItem, b: RosterItem): boolean {
  return a.subscription === b.subscription && a.ask === b.ask && a.pendingIn === b.pendingIn && a.approved === b.approved && a.hidden === b.hidden;
}

function result(before: RosterItem | undefined, after: RosterItem, extra: Omit<Transition, "item" | "changed">): Transition {
  return { item: after, changed: !before || !same(before, after), ...extra };
}

/** The user sends a subscription stanza to the contact. */
export function outbound(type: SubscriptionType, current: RosterItem | undefined, contact: string): Transition {
  const item = { ...(current ?? emptyItem(contact)) };
  switch (type) {
    case "subscribe":
      // RFC 6121 3.1.2: the item is created if needed and goes to "pending out"; the
      // request is routed even when already subscribed (the contact's server answers).
      item.hidden = false;
      if (!hasTo(item.subscription)) item.ask = true;
      return result(current, item, { forward: true });
    case "subscribed":
      if (item.pendingIn) {
        // RFC 6121 3.1.5: approval of a pending request.
        item.subscription = addFrom(item.subscription);
        item.pendingIn = false;
        item.hidden = false;
        return result(current, item, { forward: true, sendPresence: true });
      }
      if (hasFrom(item.subscription)) return { item: current, changed: false, forward: false };
      // RFC 6121 3.4: pre-approval; nothing is sent to the contact.
      item.approved = true;
      item.hidden = false;
      return result(current, item, { forward: false });
    case "unsubscribe":
      // RFC 6121 3.3.2: routed whatever the state, so the contact's server can clean up.
      if (!current) return { item: undefined, changed: false, forward: true };
      item.subscription = dropTo(item.subscription);
      item.ask = false;
      return result(current, item, { forward: true });
    case "unsubscribed":
      // RFC 6121 3.2.2: cancels the contact's subscription or denies its request.
      if (!current) return { item: undefined, changed: false, forward: true };
      {
        const wasWatching = hasFrom(item.subscription);
        item.subscription = dropFrom(item.subscription);
        item.pendingIn = false;
        item.approved = false;
        return result(current, item, { forward: true, sendUnavailable: wasWatching });
      }
  }
}

/** A subscription stanza from the contact arrives for the user. */
export function inbound(type: SubscriptionType, current: RosterItem | undefined, contact: string): Transition {
  const item = { ...(current ?? { ...emptyItem(contact), hidden: true }) };
  switch (type) {
    case "subscribe":
      // RFC 6121 3.1.3: already subscribed - the server MUST auto-reply subscribed.
      if (current && hasFrom(current.subscription)) return { item: current, changed: false, forward: false, autoReply: "subscribed" };
      if (current?.approved) {
        // RFC 6121 3.4: pre-approved - the server MUST approve on the user's behalf.
        item.subscription = addFrom(item.subscription);
        item.approved = false;
        return result(current, item, { forward: false, autoReply: "subscribed", sendPresence: true });
      }
      item.pendingIn = true;
      return result(current, item, { forward: true });
    case "subscribed":
      // RFC 6121 3.1.6: only meaningful when we asked; otherwise the server MUST ignore it.
      if (!current || !current.ask) return { item: current, changed: false, forward: false };
      item.subscription = addTo(item.subscription);
      item.ask = false;
      return result(current, item, { forward: true });
    case "unsubscribe":
      // RFC 6121 3.3.3: the contact stops watching us.
      if (!current || (!hasFrom(current.subscription) && !current.pendingIn)) return { item: current, changed: false, forward: false };
      {
        const wasWatching = hasFrom(item.subscription);
        item.subscription = dropFrom(item.subscription);
        item.pendingIn = false;
        item.approved = false;
        return result(current, item, { forward: true, sendUnavailable: wasWatching });
      }
    case "unsubscribed":
      // RFC 6121 3.2.3: our subscription is cancelled or our request denied.
      if (!current || (!hasTo(current.subscription) && !current.ask)) return { item: current, changed: false, forward: false };
      item.subscription = dropTo(item.subscription);
      item.ask = false;
      return result(current, item, { forward: true });
  }
}

export { hasFrom, hasTo };
