// Carves one allocation into named, 16-byte aligned regions, so that an object owns a single
// block of core memory and releases it in one call.
export class Layout<K extends string> {
  private size = 0;
  private readonly offsets = new Map<K, number>();

  add(name: K, bytes: number): this {
    this.offsets.set(name, this.size);
    this.size += Math.ceil(Math.max(bytes, 0) / 16) * 16;
    return this;
  }

  get bytes(): number {
    return Math.max(this.size, 16);
  }

  /** Absolute pointers once the block is placed at base. */
  place(base: number): Record<K, number> {
    const out = {} as Record<K, number>;
    for (const [k, off] of this.offsets) out[k] = base + off;
    return out;
  }
}
