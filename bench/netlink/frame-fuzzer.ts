// Feeds random and mutated netlink frames to everything that decodes what the kernel (or a
// broken bridge) sends: datagram framing, NLMSG_ERROR/DONE, the controller's family reply,
// batadv messages by the attribute table plus the driver's conversion to the model, and
// rtnetlink link messages. A typed NetlinkDecodeError (or MeshError PROTOCOL) is the right
// answer to garbage; anything else thrown is a crash and counted as one. Deterministic per seed.
import { AttrWriter } from '../../src/netlink/attributes.ts';
import { requireAttrs } from '../../src/netlink/attr-schema.ts';
import { decodeBatadvMessage } from '../../src/netlink/batadv-client.ts';
import { BATADV_QUERIES, BatadvCmd, type BatadvReply } from '../../src/netlink/batadv-protocol.ts';
import { decodeFamily, GENL_ID_CTRL } from '../../src/netlink/controller.ts';
import { NetlinkDecodeError } from '../../src/netlink/errors.ts';
import { decodeGenl, encodeGenlPayload } from '../../src/netlink/genl.ts';
import { NlmsgFlag, NlmsgType, decodeDatagram, decodeDoneStatus, decodeErrorReply, encodeMessage } from '../../src/netlink/nlmsg.ts';
import { decodeLink, RtmType } from '../../src/netlink/rtnetlink.ts';
import { MeshError } from '../../src/mesh/driver.ts';
import { toGateway, toHardInterface, toMeshInfo, toMeshSettings, toNeighbour, toOriginator } from '../../src/mesh/batman/to-model.ts';

export const FUZZ_FAMILY_ID = 0x1c;

export type Outcome = 'ok' | 'decodeError' | 'crash';
export const STRATEGIES = ['random', 'lengthField', 'bitflip', 'truncate', 'extend', 'splice', 'intact'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** xorshift32: fast, deterministic, good enough to pick mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

const PID = 4242;
const SEQ = 77;

function msg(type: number, flags: number, payload: Uint8Array, seq = SEQ, pid = PID): Uint8Array {
  return encodeMessage({ type, flags, seq, pid }, payload);
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
function batadv(cmd: number, fill: (w: AttrWriter) => void, flags: number = NlmsgFlag.MULTI): Uint8Array {
  const w = new AttrWriter();
  fill(w);
  return msg(FUZZ_FAMILY_ID, flags, encodeGenlPayload(cmd, 1, w.finish()));
}
function done(status = 0, text?: string): Uint8Array {
  const w = new AttrWriter();
  if (text) w.string(1, text);
  const st = new Uint8Array(4);
  new DataView(st.buffer).setInt32(0, status, true);
  return msg(NlmsgType.DONE, NlmsgFlag.MULTI | (text ? NlmsgFlag.ACK_TLVS : 0), concat(st, w.finish()));
}

export type Protocol = 'generic' | 'route';
export interface Seed {
  protocol: Protocol;
  frame: Uint8Array;
}

/** Valid frames of every kind the agent receives: the corpus that mutations start from. */
export function seedFrames(): Seed[] {
  const orig = (i: number, v: boolean) =>
    batadv(BatadvCmd.GET_ORIGINATORS, (w) => {
      w.mac(9, `02:00:00:00:00:${(i + 16).toString(16)}`).mac(24, '02:00:00:00:00:0a').u32(6, 3).string(7, 'eth0').u32(23, 120 * i);
      if (v) w.u32(26, 54_300);
      else w.u8(25, 200);
      if (i === 0) w.flag(22);
    });
  const mesh = batadv(
    BatadvCmd.GET_MESH,
    (w) =>
      w
        .string(1, '2022.3').string(2, 'BATMAN_IV').u32(3, 5).string(4, 'bat0').mac(5, '02:00:00:00:00:05').u8(17, 3)
        .u32(6, 3).string(7, 'eth0').mac(8, '02:00:00:00:00:03')
        .u8(41, 1).u8(42, 0).u32(43, 0).u32(44, 0).u8(45, 0).u8(46, 1).u8(47, 1).u8(48, 1)
        .u32(49, 100).u32(50, 20).u8(51, 0).u32(52, 20).u8(53, 30).u32(54, 0).u8(55, 0).u32(57, 1000).u32(60, 16),
    0,
  );
  const hardif = batadv(BatadvCmd.GET_HARDIF, (w) => w.u32(3, 5).string(4, 'bat0').u32(6, 3).string(7, 'eth0').mac(8, '02:00:00:00:00:03').flag(15).u8(53, 0).u32(58, 500).u32(59, 0));
  const gw = batadv(BatadvCmd.GET_GATEWAYS, (w) => w.flag(22).mac(9, '02:00:00:00:00:11').u32(26, 543).mac(29, '02:00:00:00:00:0a').string(7, 'eth0').u32(28, 100).u32(27, 20));
  const neigh = batadv(BatadvCmd.GET_NEIGHBORS, (w) => w.mac(24, '02:00:00:00:00:0a').u32(6, 3).u32(23, 10).u32(26, 100_000));
  const family = (() => {
    const w = new AttrWriter().string(2, 'batadv').u16(1, FUZZ_FAMILY_ID).u32(3, 1).u32(4, 0).u32(5, 60);
    w.nested(6, (ops) => [1, 5, 8].forEach((op, i) => ops.nested(i + 1, (o) => o.u32(1, op).u32(2, 0xa))));
    w.nested(7, (gs) => {
      gs.nested(1, (g) => g.string(1, 'config').u32(2, 9));
      gs.nested(2, (g) => g.string(1, 'tpmeter').u32(2, 10));
    });
    return msg(GENL_ID_CTRL, 0, encodeGenlPayload(1, 2, w.finish()));
  })();
  const errAck = (() => {
    const echoed = encodeMessage({ type: FUZZ_FAMILY_ID, flags: 5, seq: SEQ, pid: 0 }, new Uint8Array(8));
    const st = new Uint8Array(4);
    new DataView(st.buffer).setInt32(0, -22, true);
    const tlv = new AttrWriter().string(1, 'Attribute failed policy validation').u32(2, 24).finish();
    return [
      msg(NlmsgType.ERROR, NlmsgFlag.CAPPED | NlmsgFlag.ACK_TLVS, concat(st, echoed.subarray(0, 16), tlv)),
      msg(NlmsgType.ERROR, NlmsgFlag.ACK_TLVS, concat(st, echoed, tlv)),
    ];
  })();
  const link = (() => {
    const ifinfo = new Uint8Array(16);
    new DataView(ifinfo.buffer).setInt32(4, 3, true);
    const w = new AttrWriter().bytes(1, Uint8Array.of(2, 0, 0, 0, 0, 3)).string(3, 'eth0').u32(4, 1500).u32(10, 5).u8(16, 6);
    w.nested(18, (li) => li.string(1, 'veth'));
    return msg(RtmType.NEWLINK, 0, concat(ifinfo, w.finish()));
  })();
  const generic = [
    concat(orig(0, false), orig(1, false), orig(2, false)),
    concat(orig(0, true), orig(1, true), done()),
    mesh,
    concat(hardif, hardif, done()),
    concat(gw, neigh, done()),
    family,
    ...errAck,
    done(-2, 'no primary interface'),
  ].map((frame) => ({ protocol: 'generic' as const, frame }));
  // Message type numbers are per protocol: 16 is the genl controller on one socket, RTM_NEWLINK on the other.
  const route = [link, concat(link, link, done()), errAck[0]!].map((frame) => ({ protocol: 'route' as const, frame }));
  return [...generic, ...route];
}

const INTERESTING_U32 = [0, 1, 3, 4, 5, 15, 16, 17, 19, 20, 0x7f, 0xff, 0x100, 0xfff0, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

export function mutate(rng: Rng, seeds: readonly Seed[], strategy: Strategy): Seed {
  if (strategy === 'random') {
    const protocol = rng.int(2) ? 'generic' : 'route';
    const out = new Uint8Array(rng.int(600));
    for (let i = 0; i < out.length; i++) out[i] = rng.next() & 0xff;
    // Half of them get a plausible nlmsghdr so that they reach the deeper decoders.
    if (out.length >= 20 && rng.int(2) === 0) {
      const v = new DataView(out.buffer);
      v.setUint32(0, rng.int(2) ? out.length : 16 + rng.int(out.length), true);
      v.setUint16(4, rng.pick([2, 3, GENL_ID_CTRL, FUZZ_FAMILY_ID, RtmType.NEWLINK]), true);
    }
    return { protocol, frame: out };
  }
  const seed = rng.pick(seeds);
  return { protocol: seed.protocol, frame: mutateFrame(rng, seeds, seed.frame, strategy) };
}

function mutateFrame(rng: Rng, seeds: readonly Seed[], seed: Uint8Array, strategy: Exclude<Strategy, 'random'>): Uint8Array {
  const out = Uint8Array.from(seed);
  const v = new DataView(out.buffer);
  switch (strategy) {
    case 'intact':
      return out;
    case 'lengthField': {
      // Overwrite a u16 or u32 at a 4-aligned offset: that is where nlmsg_len and nla_len live.
      const n = 1 + rng.int(3);
      for (let i = 0; i < n && out.length >= 4; i++) {
        const at = rng.int(out.length >> 2) << 2;
        const val = rng.int(4) === 0 ? rng.next() : rng.pick(INTERESTING_U32);
        if (rng.int(2) && at + 4 <= out.length) v.setUint32(at, val >>> 0, true);
        else v.setUint16(at, val & 0xffff, true);
      }
      return out;
    }
    case 'bitflip': {
      const n = 1 + rng.int(8);
      for (let i = 0; i < n && out.length; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return out;
    }
    case 'truncate':
      return out.subarray(0, rng.int(out.length + 1));
    case 'extend': {
      const extra = new Uint8Array(1 + rng.int(64));
      for (let i = 0; i < extra.length; i++) extra[i] = rng.next() & 0xff;
      return concat(out, extra);
    }
    case 'splice': {
      const other = rng.pick(seeds).frame;
      const a = rng.int(out.length + 1);
      const b = rng.int(other.length + 1);
      return concat(out.subarray(0, a), other.subarray(b));
    }
  }
}

/** Decodes one datagram the way the agent would, down to the model. */
export function decodeLikeTheAgent(datagram: Uint8Array, protocol: Protocol): void {
  for (const m of decodeDatagram(datagram)) {
    if (m.type === NlmsgType.ERROR) decodeErrorReply(m);
    else if (m.type === NlmsgType.DONE) decodeDoneStatus(m);
    else if (protocol === 'route') {
      if (m.type === RtmType.NEWLINK) decodeLink(m);
      continue;
    }
    switch (m.type) {
      case GENL_ID_CTRL:
        decodeFamily(decodeGenl(m).attrs);
        break;
      case FUZZ_FAMILY_ID: {
        const { cmd, attrs } = decodeBatadvMessage(m, FUZZ_FAMILY_ID);
        const names = new Map([[3, 'eth0']]);
        if (cmd === BatadvCmd.GET_ORIGINATORS) toOriginator(requireAttrs(attrs, BATADV_QUERIES.originators.required, 'o'), names);
        else if (cmd === BatadvCmd.GET_NEIGHBORS) toNeighbour(requireAttrs(attrs, BATADV_QUERIES.neighbours.required, 'n'), names);
        else if (cmd === BatadvCmd.GET_GATEWAYS) toGateway(requireAttrs(attrs, BATADV_QUERIES.gateways.required, 'g'), new Map([['eth0', 3]]));
        else if (cmd === BatadvCmd.GET_HARDIF) toHardInterface(requireAttrs(attrs, BATADV_QUERIES.hardifs.required, 'h'), 'BATMAN_V');
        else if (cmd === BatadvCmd.GET_MESH) {
          const r = requireAttrs(attrs, BATADV_QUERIES.mesh.required, 'm') as BatadvReply<'mesh'>;
          toMeshSettings(r);
          toMeshInfo(r);
        }
        break;
      }
    }
  }
}

export function classify(datagram: Uint8Array, protocol: Protocol): { outcome: Outcome; error?: unknown } {
  try {
    decodeLikeTheAgent(datagram, protocol);
    return { outcome: 'ok' };
  } catch (e) {
    if (e instanceof NetlinkDecodeError || (e instanceof MeshError && e.code === 'PROTOCOL')) return { outcome: 'decodeError' };
    return { outcome: 'crash', error: e };
  }
}

export interface StrategyStats {
  frames: number;
  ok: number;
  decodeError: number;
  crash: number;
  ns: bigint;
  maxFrameNs: bigint;
  bytes: number;
}

export interface FuzzResult {
  seed: number;
  frames: number;
  byStrategy: Record<Strategy, StrategyStats>;
  /** First few crashes, with the frame as hex, for reproduction. */
  crashes: Array<{ strategy: Strategy; hex: string; error: string }>;
  maxHeapUsedBytes: number;
}

/** Runs `frames` frames, strategies in turn; `onProgress` every 100k frames. */
export function runFuzz(frames: number, seed: number, onProgress?: (done: number) => void): FuzzResult {
  const rng = new Rng(seed);
  const seeds = seedFrames();
  const byStrategy = Object.fromEntries(
    STRATEGIES.map((s) => [s, { frames: 0, ok: 0, decodeError: 0, crash: 0, ns: 0n, maxFrameNs: 0n, bytes: 0 }]),
  ) as Record<Strategy, StrategyStats>;
  const crashes: FuzzResult['crashes'] = [];
  let maxHeap = process.memoryUsage().heapUsed;
  for (let i = 0; i < frames; i++) {
    const strategy = STRATEGIES[i % STRATEGIES.length]!;
    const { frame, protocol } = mutate(rng, seeds, strategy);
    const t0 = process.hrtime.bigint();
    const { outcome, error } = classify(frame, protocol);
    const dt = process.hrtime.bigint() - t0;
    const st = byStrategy[strategy];
    st.frames++;
    st[outcome]++;
    st.ns += dt;
    st.bytes += frame.length;
    if (dt > st.maxFrameNs) st.maxFrameNs = dt;
    if (outcome === 'crash' && crashes.length < 5) crashes.push({ strategy, hex: Buffer.from(frame).toString('hex'), error: String((error as Error)?.stack ?? error) });
    if ((i & 0x3fff) === 0) maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
    if (onProgress && i % 100_000 === 0 && i) onProgress(i);
  }
  return { seed, frames, byStrategy, crashes, maxHeapUsedBytes: maxHeap };
}

export interface RequesterFuzzResult {
  frames: number;
  resolved: number;
  typedErrors: Record<string, number>;
  crash: number;
  /** Dumps that neither resolved nor rejected after their frame plus a closing DONE. */
  hung: number;
  ns: bigint;
}

/**
 * The same frames through the request layer: a dump is in flight, the mutated frame arrives
 * with that dump's sequence number, then a clean NLMSG_DONE. Every dump must settle, with
 * data or a typed error; the requester must keep working for the next one.
 */
export async function runRequesterFuzz(frames: number, seed: number): Promise<RequesterFuzzResult> {
  const { NetlinkRequester } = await import('../../src/netlink/requester.ts');
  const errors = await import('../../src/netlink/errors.ts');
  const typed = [errors.NetlinkDecodeError, errors.NetlinkKernelError, errors.NetlinkTransportError, errors.NetlinkDumpInterruptedError, errors.NetlinkTimeoutError];
  const rng = new Rng(seed);
  const seeds = seedFrames();
  let deliver: (d: Uint8Array) => void = () => {};
  let lastSeq = 0;
  let sends = 0;
  const link = {
    send: (d: Uint8Array) => {
      lastSeq = new DataView(d.buffer, d.byteOffset).getUint32(8, true);
      sends++;
    },
    onDatagram: (l: (d: Uint8Array) => void) => {
      deliver = l;
      return () => {};
    },
    onReset: () => () => {},
    joinGroup: async () => {},
  };
  const req = new NetlinkRequester(link, { timeoutMs: 60_000, dumpRetries: 1, portId: PID });
  const out: RequesterFuzzResult = { frames, resolved: 0, typedErrors: {}, crash: 0, hung: 0, ns: 0n };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) {
    const frame = Uint8Array.from(mutate(rng, seeds, STRATEGIES[i % STRATEGIES.length]!).frame);
    let settled = false;
    const sendsBefore = sends;
    const p = req.dump(FUZZ_FAMILY_ID, encodeGenlPayload(8, 1, new Uint8Array(0)), 'GET_ORIGINATORS').then(
      () => {
        settled = true;
        out.resolved++;
      },
      (e: unknown) => {
        settled = true;
        const cls = typed.find((c) => e instanceof c);
        if (cls) out.typedErrors[cls.name] = (out.typedErrors[cls.name] ?? 0) + 1;
        else out.crash++;
      },
    );
    // Let the queued dump reach the link (a few microtask turns, never a fixed count).
    for (let k = 0; k < 100 && sends === sendsBefore; k++) await Promise.resolve();
    // Every message header in the frame gets the in-flight sequence number (where it fits).
    const v = new DataView(frame.buffer);
    for (let off = 0; off + 16 <= frame.length; ) {
      v.setUint32(off + 8, lastSeq, true);
      const len = v.getUint32(off, true);
      if (len < 16 || len > frame.length - off) break;
      off += len + 3 - ((len + 3) % 4);
    }
    try {
      deliver(frame);
      // Close the dump; a retry after DUMP_INTR is a new request and gets its own DONE.
      for (let k = 0; k < 4 && !settled; k++) {
        const before = sends;
        deliver(encodeMessage({ type: NlmsgType.DONE, flags: NlmsgFlag.MULTI, seq: lastSeq, pid: PID }, new Uint8Array(4)));
        for (let w = 0; w < 100 && !settled && sends === before; w++) await Promise.resolve();
      }
    } catch {
      out.crash++; // the requester must never throw into the transport's callback
    }
    await Promise.race([p, new Promise((r) => setImmediate(r))]);
    if (!settled) out.hung++;
  }
  out.ns = process.hrtime.bigint() - t0;
  req.close();
  return out;
}
