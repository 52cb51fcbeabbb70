/**
 * The presence core's vocabulary. The core is a library with no sockets: the
 * access layer (c2s) and the router talk to it through these shapes only, so
 * no wire format reaches in here.
 */
import type { Envelope } from "../model/envelope.js";
import type { RichPresence } from "../model/presence.js";
import type { DeliveryError, RouteResult } from "../model/route.js";

/** RFC 6121 section 2.1.2.5: the subscription attribute of a roster item. */
export type Subscription = "none" | "to" | "from" | "both";

/** RFC 6121 section 3: the four subscription presence types. */
export type SubscriptionType = "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed";

export interface RosterItem {
  /** Bare JID of the contact. */
  jid: string;
  name?: string | undefined;
  groups: string[];
  subscription: Subscription;
  /** Our subscription request to the contact is pending ("pending out", ask='subscribe'). */
  ask: boolean;
  /** The contact asked to see our presence and we have not answered ("pending in"). */
  pendingIn: boolean;
  /** RFC 6121 section 3.4: we approved the contact before it asked. */
  approved: boolean;
  /** Kept only for a pending-in request; not part of the roster the user sees. */
  hidden: boolean;
}

/** What the core pushes to one connected device. */
export type CoreEvent =
  | {
      kind: "message";
      envelope: Envelope;
      carbon?: "sent" | "received" | undefined;
      /** Stored while the user was offline (rendered with a delay stamp). */
      delayed?: boolean | undefined;
    }
  | {
      kind: "presence";
      from: string;
      /** undefined = available. */
      type?: "unavailable" | "error" | undefined;
      presence?: RichPresence | undefined;
      /** For type error. */
      error?: DeliveryError | undefined;
    }
  | { kind: "subscription"; from: string; type: SubscriptionType; error?: DeliveryError | undefined }
  | { kind: "roster-push"; item: RosterItem; removed: boolean }
  | { kind: "block-push"; jids: string[]; blocked: boolean }
  /** The session was ended by the core (another login took the resource, the account was removed). */
  | { kind: "closed"; reason: "conflict" | "removed" };

/** Implemented by the access layer for each connected device. */
export interface DeviceSink {
  push(event: CoreEvent): void;
}

/** How the core hands an envelope to the router (compliance, archive, delivery). */
export type RouteFn = (envelope: Envelope) => Promise<RouteResult>;

/** A stored user. Credentials are opaque to the core (the access layer derives them). */
export interface StoredUser {
  jid: string;
  group?: string | undefined;
  credentials: Record<string, unknown>;
}

/** Sources of presence besides a client's own show/status. */
export type PresenceSource = "phone" | "calendar" | "manual";

export interface Limits {
  maxContacts: number;
  maxWatchers: number;
  /** Stored messages per offline user. */
  maxOffline: number;
}
