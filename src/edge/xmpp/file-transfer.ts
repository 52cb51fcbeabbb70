/**
 * Which messages are file-transfer links, so compliance profiles can route
 * them apart: XEP-0066 out-of-band data (what HTTP upload clients, XEP-0363,
 * attach) and XEP-0447 stateless file sharing. Their body usually repeats the
 * URL, so rules on the body see the link; a redacted body drops the
 * extensions on delivery, so a link cannot ride past a redaction.
 */
import type { Element } from "./xml.js";

export const NS_OOB = "jabber:x:oob";
export const NS_SFS = "urn:xmpp:sfs:0";

export function isFileTransfer(message: Element): boolean {
  return message.getChild("x", NS_OOB) !== undefined || message.getChild("file-sharing", NS_SFS) !== undefined;
}
