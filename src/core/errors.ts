/**
 * Errors the core gives a device, named by RFC 6120 section 8.3.3 stanza error
 * conditions so the access layer passes them on as they are.
 */
import type { DeliveryError } from "../model/route.js";

export class CoreError extends Error {
  constructor(
    readonly condition: string,
    readonly type: NonNullable<DeliveryError["type"]>,
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = "CoreError";
  }

  toDeliveryError(): DeliveryError {
    return { condition: this.condition, type: this.type, text: this.text };
  }
}

export const tooManyContacts = (max: number) =>
  new CoreError("resource-constraint", "wait", `contact list is full: at most ${max} contacts per user`);

export const tooManyWatchers = (who: string, max: number) =>
  new CoreError("resource-constraint", "wait", `${who} already has the maximum of ${max} watchers`);
