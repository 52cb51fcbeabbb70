/**
 * Open streams per remote address (RFC 6120 section 13.12), shared by every
 * XMPP listener so one host cannot take every slot.
 */
export class AddressCounter {
  private readonly counts = new Map<string, number>();

  /** Counts a new stream from an address; false when it would exceed max. */
  acquire(address: string, max: number): boolean {
    const n = this.counts.get(address) ?? 0;
    if (n >= max) return false;
    this.counts.set(address, n + 1);
    return true;
  }

  release(address: string): void {
    const n = (this.counts.get(address) ?? 1) - 1;
    if (n <= 0) this.counts.delete(address);
    else this.counts.set(address, n);
  }

  count(address: string): number {
    return this.counts.get(address) ?? 0;
  }
}
