/**
 * RFC 6121 section 5: messages from a client. Unknown types are treated as
 * normal (5.2.2); no 'to' means the user's own bare JID (RFC 6120 10.3.1);
 * XEP-0280 section 7 <private/> and XEP-0334 <no-copy/> keep a message out of carbons.
 * Its children become typed content (src/xmpp/content-read.ts), as on s2s.
 */
import { StanzaError, stanzaHead } from "../../xmpp/errors.js";
import { isFileTransfer } from "../../xmpp/file-transfer.js";
import { definedOnly, readContent } from "../../xmpp/content-read.js";
import { hasChild, type Element } from "../../xmpp/xml.js";
import { NS } from "./ns.js";
import type { C2sSession } from "./session.js";

const TYPES = new Set(["chat", "error", "groupchat", "headline", "normal"]);

/**
 * Hands the message to the core without waiting for its result, so the
 * stream's next stanzas are read while this one is journaled: the session's
 * lane keeps their order, and results (an error reply) come back in order.
 */
export async function handleMessage(s: C2sSession, el: Element): Promise<void> {
  const type = TYPES.has(el.attrs.type ?? "") ? el.attrs.type! : "normal";
  // Group chat needs a MUC service, which this server does not host.
  if (type === "groupchat") throw new StanzaError("service-unavailable", "group chat is not offered here");
  const to = el.attrs.to ?? s.bare;
  const priv = hasChild(el, "private", NS.carbons) || hasChild(el, "no-copy", NS.hints);
  const { body, subject, thread, payload: _none, ...content } = readContent(el);
  const pending = s.core.message({
    to,
    type,
    body,
    subject,
    thread,
    content: definedOnly(content),
    stanzaId: el.attrs.id,
    private: priv,
    kind: isFileTransfer(el) ? "file-transfer" : "message",
  });
  // Until the result comes (after the journal sync), only what an error reply needs is kept, not the content.
  const head = stanzaHead(el);
  pending.then(
    (r) => {
      if (!r.delivered && type !== "error") s.replyError(head, StanzaError.from(r.error));
    },
    (err: unknown) => s.replyError(head, err),
  );
}
