/**
 * Which messages are file-transfer links, so compliance profiles can route
 * them apart: XEP-0066 out-of-band data (what HTTP upload clients, XEP-0363,
 * attach) and XEP-0447 stateless file sharing. Their addresses, names and
 * descriptions are content parts (content-read.ts): rules read them and a
 * redaction rewrites them like the body.
 */
import { NS_OOB, NS_SFS } from "./content-read.js";
import type { Element } from "./xml.js";

export { NS_OOB, NS_SFS };

/** As getChild("x", NS_OOB) || getChild("file-sharing", NS_SFS), without the arrays those build: asked of every message. */
export function isFileTransfer(message: Element): boolean {
  for (const c of message.children) {
    if (typeof c !== "object") continue;
    const name = c.getName();
    if ((name === "x" && c.getNS() === NS_OOB) || (name === "file-sharing" && c.getNS() === NS_SFS)) return true;
  }
  return false;
}
