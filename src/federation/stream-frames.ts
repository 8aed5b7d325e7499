// Length-prefixed frames over a libp2p stream (u32 big-endian length, then the bytes), with a
// cap per frame and per stream so a peer cannot make us buffer without bound.
import type { Stream } from '@libp2p/interface';

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Writes the frames and closes our side of the stream. */
export async function writeFrames(stream: Stream, bodies: Iterable<Uint8Array>): Promise<void> {
  await stream.sink(
    (function* () {
      for (const b of bodies) yield frame(b);
    })(),
  );
}

/** Reads frames until the remote closes its side; `onFrame` sees each one as it completes. */
export async function readFrames(stream: Stream, maxFrame: number, maxTotal: number, onFrame: (body: Uint8Array) => void, maxFrames = Infinity): Promise<number> {
  let buf = new Uint8Array(0);
  let total = 0;
  let count = 0;
  for await (const chunk of stream.source) {
    const bytes = chunk.subarray();
    total += bytes.length;
    if (total > maxTotal) throw new FrameError(`more than ${maxTotal} bytes on one stream`);
    const next = new Uint8Array(buf.length + bytes.length);
    next.set(buf);
    next.set(bytes, buf.length);
    buf = next;
    while (buf.length >= 4) {
      const len = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
      if (len > maxFrame) throw new FrameError(`frame of ${len} bytes, more than ${maxFrame}`);
      if (buf.length < 4 + len) break;
      onFrame(buf.slice(4, 4 + len));
      buf = buf.subarray(4 + len);
      if (++count >= maxFrames) return count;
    }
  }
  if (buf.length) throw new FrameError('stream ended inside a frame');
  return count;
}

/** A batch of byte strings in one message (state deltas): u16 count, then u32-prefixed items. */
export function encodeBatch(items: Uint8Array[]): Uint8Array {
  const n = items.reduce((s, i) => s + 4 + i.length, 2);
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, items.length);
  let at = 2;
  for (const i of items) {
    dv.setUint32(at, i.length);
    out.set(i, at + 4);
    at += 4 + i.length;
  }
  return out;
}

export function decodeBatch(buf: Uint8Array): Uint8Array[] {
  if (buf.length < 2) throw new FrameError('batch shorter than its header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const count = dv.getUint16(0);
  const out: Uint8Array[] = [];
  let at = 2;
  for (let k = 0; k < count; k++) {
    if (at + 4 > buf.length) throw new FrameError('truncated batch');
    const len = dv.getUint32(at);
    if (at + 4 + len > buf.length) throw new FrameError('truncated batch item');
    out.push(buf.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== buf.length) throw new FrameError('trailing bytes after the batch');
  return out;
}

/**
 * Closes both directions once a protocol exchange is over. A stream left half-open keeps its
 * yamux slot: a few hundred exchanges later no new stream (admission included) could open.
 */
export async function finish(stream: Stream | null): Promise<void> {
  if (!stream) return;
  try {
    await stream.close({ signal: AbortSignal.timeout(5000) });
  } catch (e) {
    stream.abort(e instanceof Error ? e : new Error(String(e)));
  }
}
