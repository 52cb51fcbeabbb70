/**
 * A bounded map of recently used entries, for caches whose keys come from
 * the wire (a sender chooses them, so the map must not grow with them).
 *
 * Two generations of at most `size` entries each: a hit in the newer is one
 * lookup and no bookkeeping; a hit in the older moves the entry to the newer;
 * when the newer is full the older is dropped whole. So the working set stays
 * and at most 2 x size entries are held. It is the scheme of the quick-lru
 * package; the model imports no packages (test/architecture), and a hit costs
 * less than a strict LRU's reordering, which is what a per-stanza cache wants.
 */
export class RecentlyUsed<K, V> {
  private newer = new Map<K, V>();
  private older = new Map<K, V>();

  constructor(private readonly size: number) {}

  get(key: K): V | undefined {
    const hit = this.newer.get(key);
    if (hit !== undefined) return hit;
    const old = this.older.get(key);
    if (old !== undefined) {
      this.older.delete(key);
      this.add(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    if (this.newer.has(key)) this.newer.set(key, value);
    else this.add(key, value);
  }

  private add(key: K, value: V): void {
    if (this.newer.size >= this.size) {
      this.older = this.newer;
      this.newer = new Map();
    }
    this.newer.set(key, value);
  }
}
