/**
 * A set of strings kept as 64-bit hashes in one typed array (open addressing): about 16
 * bytes a key at most, where a Set of 64-character cache keys costs well over 100. What a
 * streamed run must remember of every question it asked (a million rows: ~16 MB, not
 * ~150). Two keys whose 64-bit hashes collide (about 1 in 10^7 over a million keys) count
 * as one, and what that can do is bounded by how the set is used (chunk-select.ts): it only
 * says whether a key was asked this run. A verdict is always looked up in the store by the
 * row's own key, so a collision never hands one question's verdict to another. A row whose
 * key falsely collides is taken as "asked this run": if the store holds a verdict for its own
 * key (an old one), that verdict stands where --force, a ticked box or an old verdict would
 * have asked it again, and the row is counted as deduplicated instead of from the cache; if
 * the store holds none, the row is asked as usual.
 */
export class KeySet {
  private slots = new Uint32Array(2 * 1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    const [a, b] = hash64(key);
    const mask = this.slots.length / 2 - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const x = this.slots[2 * i] ?? 0;
      const y = this.slots[2 * i + 1] ?? 0;
      if (x === 0 && y === 0) return false;
      if (x === a && y === b) return true;
    }
  }

  add(key: string): void {
    const [a, b] = hash64(key);
    if (this.put(this.slots, a, b)) this.count++;
    // Kept at most half full: probes stay short.
    if (this.count * 2 > this.slots.length / 2) this.grow();
  }

  private put(slots: Uint32Array, a: number, b: number): boolean {
    const mask = slots.length / 2 - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const x = slots[2 * i] ?? 0;
      const y = slots[2 * i + 1] ?? 0;
      if (x === 0 && y === 0) {
        slots[2 * i] = a;
        slots[2 * i + 1] = b;
        return true;
      }
      if (x === a && y === b) return false;
    }
  }

  private grow(): void {
    const old = this.slots;
    const next = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) {
      const a = old[i] ?? 0;
      const b = old[i + 1] ?? 0;
      if (a !== 0 || b !== 0) this.put(next, a, b);
    }
    this.slots = next;
  }
}

/**
 * A 64-bit hash of the string (cyrb53's two 32-bit lanes, both kept: a public-domain
 * string hash with good avalanche); never (0, 0), which marks an empty slot.
 */
function hash64(key: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const a = h1 >>> 0;
  const b = h2 >>> 0;
  return a === 0 && b === 0 ? [0, 1] : [a, b];
}
