/**
 * What a client stream sent, handled one item at a time and in order even
 * when a handler awaits (RFC 6120 10.1). Handling starts in a microtask
 * after the first item arrives, so the parser finishes the chunk it is
 * reading before anything it produced is acted on, as with a chain of
 * promises; but an item costs an array slot, not a closure and two promises.
 */
export class Inbox<T> {
  private readonly items: T[] = [];
  private running = false;

  constructor(
    private readonly handle: (item: T) => Promise<void>,
    /** A handler failed; the items after it are still handled. */
    private readonly failed: (err: Error) => void,
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (this.running) return;
    this.running = true;
    queueMicrotask(() => void this.run());
  }

  private async run(): Promise<void> {
    while (this.items.length > 0) {
      const item = this.items.shift()!;
      try {
        await this.handle(item);
      } catch (err) {
        this.failed(err as Error);
      }
    }
    this.running = false;
  }
}
