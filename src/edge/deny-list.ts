/**
 * federation.deny, shared by every federation edge: an entry refuses the
 * domain itself and every subdomain of it, so denying rival.example also keeps
 * out im.rival.example whichever protocol it comes over.
 */
export function deniedBy(domain: string, deny: ReadonlySet<string>): boolean {
  for (let d = domain.toLowerCase(); d.length > 0; ) {
    if (deny.has(d)) return true;
    const dot = d.indexOf(".");
    if (dot < 0) break;
    d = d.slice(dot + 1);
  }
  return false;
}

export function denySet(entries: readonly string[]): Set<string> {
  return new Set(entries.map((d) => d.toLowerCase()));
}
