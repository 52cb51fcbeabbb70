import { z } from "zod";

/**
 * A DNS domain name (RFC 1035 labels, RFC 1123 leading digits), as hosted
 * domains, partner domains and deny entries must be: these names go into
 * certificates, SRV records and stream headers, where a typo such as a space
 * or a ":5269" would only surface later as a broken zone or a refused partner.
 */
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function isDomainName(name: string): boolean {
  const d = name.toLowerCase();
  return d.length <= 253 && d.split(".").every((l) => LABEL.test(l));
}

export const domainName = z
  .string()
  .min(1)
  .refine(isDomainName, { message: "must be a domain name (letters, digits and hyphens in dot-separated labels; no port, scheme or spaces)" });
