// The core's linear memory, owned by the TypeScript side: the AssemblyScript code allocates
// nothing (stub runtime, no managed objects) and works on the pointers it is given.
// A first-fit free list over [heapBase, top) with coalescing; memory grows only when no free
// block fits, so an aggregator of the same n·d created and disposed every round reuses the same
// bytes and never grows the memory again.
import type { CoreMemoryObject } from './exports.ts';
import { CoreMemoryError } from './errors.ts';

const PAGE = 65536;
const ALIGN = 16;
// wasm2js addresses memory with signed 32-bit integers; 1 GiB also keeps far from what a
// 256 MB router could give anyway.
export const MAX_CORE_BYTES = 1 << 30;

interface Block {
  ptr: number;
  size: number;
}

export class CoreMemory {
  private top: number;
  private readonly free: Block[] = [];
  private readonly live = new Map<number, number>();
  /** How many times the linear memory grew (each growth detaches earlier typed-array views). */
  grows = 0;

  constructor(
    private readonly memory: CoreMemoryObject,
    heapBase: number,
  ) {
    this.top = align(heapBase);
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** Bytes of linear memory currently reserved from the system. */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes handed out and not released. */
  get used(): number {
    let s = 0;
    for (const size of this.live.values()) s += size;
    return s;
  }

  alloc(bytes: number): number {
    const size = align(Math.max(bytes, ALIGN));
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size < size) continue;
      const ptr = b.ptr;
      if (b.size === size) this.free.splice(i, 1);
      else {
        b.ptr += size;
        b.size -= size;
      }
      this.live.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > MAX_CORE_BYTES) {
      throw new CoreMemoryError(
        `core memory limit: ${bytes} more bytes would take the core past ${MAX_CORE_BYTES} bytes`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      const old = this.memory.buffer;
      if (this.memory.grow(pages) < 0 || this.memory.buffer.byteLength < end) {
        throw new CoreMemoryError(`core memory could not grow by ${pages} pages of 64 KiB`);
      }
      // WebAssembly.Memory detaches the old buffer on growth; wasm2js's memory just swaps in a
      // new one. Detach it here too, so that a stale view reads as empty in both builds instead
      // of silently taking writes that the core never sees.
      if (this.memory.buffer !== old && old.byteLength > 0) structuredClone(old, { transfer: [old] });
      this.grows++;
    }
    this.top = end;
    this.live.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) return;
    this.live.delete(ptr);
    let i = 0;
    while (i < this.free.length && this.free[i]!.ptr < ptr) i++;
    this.free.splice(i, 0, { ptr, size });
    // merge with the next, then with the previous block
    const cur = this.free[i]!;
    const next = this.free[i + 1];
    if (next && cur.ptr + cur.size === next.ptr) {
      cur.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.ptr + prev.size === cur.ptr) {
      prev.size += cur.size;
      this.free.splice(i, 1);
    }
    // give the last block back to the bump pointer
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
