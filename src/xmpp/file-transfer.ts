/**
 * Which messages are file-transfer links, so compliance profiles can route
 * them apart: XEP-0066 out-of-band data (what HTTP upload clients, XEP-0363,
 * attach) and XEP-0447 stateless file sharing. Their addresses, names and
 * descriptions are content parts (content-read.ts): rules read them and a
 * redaction rewrites them like the body.
 */
import { NS_OOB, NS_SFS } from "./content-read.js";
import { hasChild, type Element } from "./xml.js";

export { NS_OOB, NS_SFS };

export function isFileTransfer(message: Element): boolean {
  return hasChild(message, "x", NS_OOB) || hasChild(message, "file-sharing", NS_SFS);
}
