// Secure aggregation for one round (Bonawitz et al. 2017, without the server: every node runs
// the aggregator's part for itself over the broadcast topic). Every node learns the SUM of the
// surviving updates and nothing else about an individual honest update, as long as fewer than t
// nodes collude and the nodes see the same cohort.
//
//  1 keys     each node publishes a fresh X25519 public key for the round     → cohort U1
//  2 shares   each node Shamir-splits (t of |U1|) its round private key sk and a self-mask seed
//             b, and publishes share j encrypted to member j (AES-256-GCM under X25519(sk, pk_j))
//                                                                              → U2 (sent shares)
//  3 masked   y = q(x) + PRG(b) + Σ_{j∈U2} ±PRG(s_ij)  (mod 2^32), s_ij = HKDF(X25519(sk_i, pk_j));
//             q: fixed point, 2^20 per unit, after clipping x to the clip norm   → S (survivors)
//  4 unmask   each survivor reveals, for every member of U2, its share of b_j (j survived) or
//             of sk_j (j dropped) — never both for the same j
//  5 sum      Σ_{i∈S} y_i − Σ PRG(b_i) − the dropped members' pairwise masks, rebuilt from sk_j
//
// Dropouts after phase 2 are recovered (t = ⌈2|U1|/3⌉ shares suffice). What is NOT done: the
// consistency round of the malicious-server variant (views are checked, and a round whose views
// disagree fails instead), and any proof that a masked input is well-formed — a Byzantine node
// can put any vector into the sum, so the learner bounds the step the sum may cause.
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { combine, split, type Share } from './shamir.ts';
import type { RoundTransport } from './round-transport.ts';
import { encodeMessage, type LearningMessage } from './wire.ts';

export const FIXED_POINT_SCALE = 1 << 20;
/** Largest cohort: with |x| ≤ clip norm per coordinate, 64 summed inputs stay inside int32. */
export const MAX_COHORT = 64;
type Phase = 'keys' | 'shares' | 'masked' | 'unmask';

export interface SecureRoundOptions {
  transport: RoundTransport;
  round: number;
  d: number;
  /** Updates are clipped to this L2 norm before encoding (bounds the fixed-point range). */
  clipNorm: number;
  /** Each phase waits for every member, or this long. */
  phaseTimeoutMs: number;
  /** Peers that may join the cohort (default: transport.peers() at start). */
  admitted?: (peer: string) => boolean;
  timers?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
}

export type SecureOutcome =
  | { ok: true; sum: Float64Array; count: number; survivors: string[]; dropped: string[] }
  | { ok: false; reason: string };

interface Member {
  pk: KeyObject;
  pkRaw: Uint8Array;
  /** 1-based Shamir x of the member (index in the sorted cohort + 1). */
  x: number;
}

type Failed = { ok: false; reason: string };
const failed = (r: object): r is Failed => (r as { ok?: unknown }).ok === false;

/** After phase 1: this node's round key, the cohort U1 and the Shamir threshold t. */
interface Cohort {
  privateKey: KeyObject;
  skRaw: Uint8Array;
  cohort: string[];
  members: Map<string, Member>;
  t: number;
}

/** After phase 2: the self-mask seed, the shares of sk and b this node holds, and U2. */
interface Shared {
  b: Uint8Array;
  mine: Map<string, { sk: Uint8Array; b: Uint8Array }>;
  u2: string[];
}

/** After phase 3: this node's masked input, the survivors S with their views of U2, the dropped (U2 minus S). */
interface Masked {
  y: Uint32Array;
  survivors: string[];
  viewOf: Map<string, string[]>;
  dropped: string[];
}

/** After phase 4: at least t shares of each survivor's b and of each dropped member's sk. */
interface Unmasked {
  bShare: Map<string, Share[]>;
  skShare: Map<string, Share[]>;
}

export class SecureRound {
  readonly round: number;
  private readonly opts: SecureRoundOptions;
  private readonly self: string;
  private readonly inbox: Record<Phase, Map<string, LearningMessage>> = { keys: new Map(), shares: new Map(), masked: new Map(), unmask: new Map() };
  private waiting: { phase: Phase; expect: () => boolean; resolve: () => void } | null = null;

  constructor(opts: SecureRoundOptions) {
    if (!(opts.clipNorm > 0) || opts.clipNorm * FIXED_POINT_SCALE * MAX_COHORT >= 2 ** 31) {
      throw new RangeError(`secure aggregation: clip norm must be in (0, ${2 ** 31 / FIXED_POINT_SCALE / MAX_COHORT}) so ${MAX_COHORT} summed updates fit in 32 bits`);
    }
    this.opts = opts;
    this.round = opts.round;
    this.self = opts.transport.self;
  }

  /** Feeds a keys/shares/masked/unmask message of this round (first one per peer and phase counts). */
  handle(m: LearningMessage, from: string): void {
    if (m.round !== this.round) return;
    const phase = (m.type === 'keys' || m.type === 'shares' || m.type === 'masked' || m.type === 'unmask') ? m.type : null;
    if (!phase || this.inbox[phase].has(from)) return;
    this.inbox[phase].set(from, m);
    if (this.waiting && this.waiting.phase === phase && this.waiting.expect()) this.waiting.resolve();
  }

  /** Runs the protocol with this node's update; resolves with the survivors' sum or why it failed. */
  async run(update: Float32Array): Promise<SecureOutcome> {
    try {
      return await this.protocol(update);
    } catch (e) {
      return { ok: false, reason: `secure aggregation failed: ${(e as Error).message}` };
    }
  }

  private async protocol(update: Float32Array): Promise<SecureOutcome> {
    const { transport, d } = this.opts;
    if (update.length !== d) return { ok: false, reason: `update has ${update.length} values, expected ${d}` };
    const admitted = this.opts.admitted ?? ((p: string) => transport.peers().includes(p));
    const expected = new Set(transport.peers().filter(admitted));
    const co = await this.keysPhase(expected);
    if (failed(co)) return co;
    const shared = await this.sharesPhase(co);
    if (failed(shared)) return shared;
    const masked = await this.maskedPhase(update, co, shared);
    if (failed(masked)) return masked;
    const shares = await this.unmaskPhase(co, shared, masked);
    if (failed(shares)) return shares;
    return this.sum(co, masked, shares);
  }

  /** 1 keys: a fresh key pair for the round; the cohort is who published a key in time. */
  private async keysPhase(expected: Set<string>): Promise<Cohort | Failed> {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    const pkRaw = rawPublic(publicKey);
    const skRaw = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
    await this.publish('keys', new Uint32Array(0), pkRaw);
    await this.wait('keys', () => [...expected].every((p) => this.inbox.keys.has(p)));
    const cohort = [this.self, ...[...this.inbox.keys.keys()].filter((p) => expected.has(p) && this.inbox.keys.get(p)!.extra.length === 32)].sort();
    if (cohort.length > MAX_COHORT) return { ok: false, reason: `cohort of ${cohort.length} exceeds ${MAX_COHORT}` };
    if (cohort.length < 3) return { ok: false, reason: `cohort of ${cohort.length} is too small to hide an update (need ≥ 3)` };
    const members = new Map<string, Member>();
    cohort.forEach((p, i) => {
      const raw = p === this.self ? pkRaw : this.inbox.keys.get(p)!.extra;
      members.set(p, { pk: p === this.self ? publicKey : importPublic(raw), pkRaw: raw, x: i + 1 });
    });
    return { privateKey, skRaw, cohort, members, t: Math.ceil((2 * cohort.length) / 3) };
  }

  /** 2 shares: share j of sk and of b, encrypted to j; U2 is who sent me a share of the same cohort. */
  private async sharesPhase(co: Cohort): Promise<Shared | Failed> {
    const { privateKey, cohort, members, t } = co;
    const b = randomBytes(32);
    const skShares = split(co.skRaw, cohort.length, t);
    const bShares = split(b, cohort.length, t);
    const enc: Record<string, string> = {};
    const mine = new Map<string, { sk: Uint8Array; b: Uint8Array }>(); // shares others gave me (and my own)
    cohort.forEach((p, i) => {
      if (p === this.self) {
        mine.set(p, { sk: skShares[i]!.y, b: bShares[i]!.y });
        return;
      }
      const key = derive(diffieHellman({ privateKey, publicKey: members.get(p)!.pk }), this.round, 'x6l1 share');
      enc[p] = seal(key, Buffer.concat([skShares[i]!.y, bShares[i]!.y]), `${this.round}/${this.self}/${p}`).toString('base64');
    });
    await this.publish('shares', new Uint32Array(0), json({ cohort, shares: enc }));
    const others = cohort.filter((p) => p !== this.self);
    await this.wait('shares', () => others.every((p) => this.inbox.shares.has(p)));
    const u2 = [this.self];
    for (const p of others) {
      const m = this.inbox.shares.get(p);
      if (!m) continue;
      const body = parse(m.extra) as { cohort?: unknown; shares?: Record<string, unknown> } | null;
      if (!body || !sameList(body.cohort, cohort)) continue; // a different view: leave it out
      const sealed = body.shares?.[this.self];
      if (typeof sealed !== 'string') continue;
      const key = derive(diffieHellman({ privateKey, publicKey: members.get(p)!.pk }), this.round, 'x6l1 share');
      const plain = open(key, Buffer.from(sealed, 'base64'), `${this.round}/${p}/${this.self}`);
      if (!plain || plain.length !== 64) continue;
      mine.set(p, { sk: plain.subarray(0, 32), b: plain.subarray(32) });
      u2.push(p);
    }
    u2.sort();
    if (u2.length < t) return { ok: false, reason: `only ${u2.length} members shared their keys, threshold ${t}` };
    return { b, mine, u2 };
  }

  /** 3 masked input; the survivors are who sent theirs, and their views of U2 must agree pairwise. */
  private async maskedPhase(update: Float32Array, co: Cohort, shared: Shared): Promise<Masked | Failed> {
    const { d } = this.opts;
    const { privateKey, members, t } = co;
    const { u2 } = shared;
    const y = encodeFixed(update, this.opts.clipNorm);
    addInto(y, prg(shared.b, this.round, 'x6l1 self', d), 1);
    for (const p of u2) {
      if (p === this.self) continue;
      const s = diffieHellman({ privateKey, publicKey: members.get(p)!.pk });
      addInto(y, prg(s, this.round, 'x6l1 pair', d), this.self < p ? 1 : -1);
    }
    await this.publish('masked', y, json({ u2 }));
    const u2Others = u2.filter((p) => p !== this.self);
    await this.wait('masked', () => u2Others.every((p) => this.inbox.masked.has(p)));
    const survivors = [this.self];
    const viewOf = new Map<string, string[]>([[this.self, u2]]);
    for (const p of u2Others) {
      const m = this.inbox.masked.get(p);
      if (!m || !(m.values instanceof Uint32Array) || m.values.length !== d) continue;
      const body = parse(m.extra) as { u2?: unknown } | null;
      if (!body || !Array.isArray(body.u2) || !body.u2.every((v) => typeof v === 'string')) continue;
      viewOf.set(p, body.u2 as string[]);
      survivors.push(p);
    }
    survivors.sort();
    if (survivors.length < t) return { ok: false, reason: `only ${survivors.length} masked inputs arrived, threshold ${t}` };
    // pairwise masks cancel only between members that masked with each other
    for (const i of survivors) {
      for (const j of survivors) {
        if (i < j && viewOf.get(i)!.includes(j) !== viewOf.get(j)!.includes(i)) {
          return { ok: false, reason: `inconsistent views: ${i} and ${j} disagree on masking with each other` };
        }
      }
    }
    return { y, survivors, viewOf, dropped: u2.filter((p) => !survivors.includes(p)) };
  }

  /** 4 unmask: b shares of survivors, sk shares of the dropped — never both for one member. */
  private async unmaskPhase(co: Cohort, shared: Shared, masked: Masked): Promise<Unmasked | Failed> {
    const { members, t } = co;
    const { mine } = shared;
    const { survivors, dropped } = masked;
    const revealB: Record<string, string> = {};
    const revealSk: Record<string, string> = {};
    for (const p of survivors) revealB[p] = Buffer.from(mine.get(p)!.b).toString('base64');
    for (const p of dropped) revealSk[p] = Buffer.from(mine.get(p)!.sk).toString('base64');
    await this.publish('unmask', new Uint32Array(0), json({ survivors, b: revealB, sk: revealSk }));
    const bShare = new Map<string, Share[]>(survivors.map((p) => [p, [{ x: members.get(this.self)!.x, y: mine.get(p)!.b }]]));
    const skShare = new Map<string, Share[]>(dropped.map((p) => [p, [{ x: members.get(this.self)!.x, y: mine.get(p)!.sk }]]));
    const collect = () => {
      for (const s of bShare.values()) s.length = 1;
      for (const s of skShare.values()) s.length = 1;
      for (const [from, m] of this.inbox.unmask) {
        if (!survivors.includes(from)) continue;
        const body = parse(m.extra) as { b?: Record<string, unknown>; sk?: Record<string, unknown> } | null;
        const x = members.get(from)!.x;
        for (const [target, list] of bShare) addShare(list, x, body?.b?.[target]);
        for (const [target, list] of skShare) addShare(list, x, body?.sk?.[target]);
      }
      return [...bShare.values(), ...skShare.values()].every((l) => l.length >= t);
    };
    await this.wait('unmask', collect);
    if (!collect()) return { ok: false, reason: `not enough unmasking shares (threshold ${t})` };
    return { bShare, skShare };
  }

  /** 5 sum: the survivors' masked inputs, less their self masks and the dropped members' pair masks. */
  private sum(co: Cohort, masked: Masked, shares: Unmasked): SecureOutcome {
    const { d } = this.opts;
    const { members } = co;
    const { y, survivors, viewOf, dropped } = masked;
    const sum = new Uint32Array(d);
    for (const p of survivors) addInto(sum, p === this.self ? y : (this.inbox.masked.get(p)!.values as Uint32Array), 1);
    for (const p of survivors) addInto(sum, prg(combine(shares.bShare.get(p)!), this.round, 'x6l1 self', d), -1);
    for (const j of dropped) {
      const skJ = importPrivate(combine(shares.skShare.get(j)!), members.get(j)!.pkRaw);
      for (const i of survivors) {
        if (!viewOf.get(i)!.includes(j)) continue;
        const s = diffieHellman({ privateKey: skJ, publicKey: members.get(i)!.pk });
        // i added +PRG(s_ij) when i < j, −PRG otherwise: take it back out
        addInto(sum, prg(s, this.round, 'x6l1 pair', d), i < j ? -1 : 1);
      }
    }
    return { ok: true, sum: decodeFixed(sum), count: survivors.length, survivors, dropped };
  }

  private async publish(phase: Phase, values: Uint32Array, extra: Uint8Array): Promise<void> {
    await this.opts.transport.publish(encodeMessage({ type: phase, round: this.round, modelVersion: 0, sender: this.self, values, extra }));
  }

  private wait(phase: Phase, expect: () => boolean): Promise<void> {
    if (expect()) return Promise.resolve();
    const timers = this.opts.timers ?? { setTimeout, clearTimeout };
    return new Promise<void>((resolve) => {
      const timer = timers.setTimeout(() => done(), this.opts.phaseTimeoutMs);
      const done = () => {
        timers.clearTimeout(timer);
        this.waiting = null;
        resolve();
      };
      this.waiting = { phase, expect, resolve: done };
    });
  }
}

function addShare(list: Share[], x: number, v: unknown): void {
  if (typeof v !== 'string' || list.some((s) => s.x === x)) return;
  const y = Buffer.from(v, 'base64');
  if (y.length === 32) list.push({ x, y });
}

/** Fixed point: clip to the norm, then round(x · 2^20) as a two's-complement uint32. */
export function encodeFixed(x: Float32Array, clipNorm: number): Uint32Array {
  let n = 0;
  for (const v of x) n += v * v;
  const scale = Math.sqrt(n) > clipNorm ? clipNorm / Math.sqrt(n) : 1;
  return Uint32Array.from(x, (v) => Math.round(v * scale * FIXED_POINT_SCALE) >>> 0);
}

export function decodeFixed(q: Uint32Array): Float64Array {
  return Float64Array.from(q, (v) => (v | 0) / FIXED_POINT_SCALE);
}

function addInto(acc: Uint32Array, v: Uint32Array, sign: 1 | -1): void {
  for (let k = 0; k < acc.length; k++) acc[k] = (acc[k]! + (sign === 1 ? v[k]! : -v[k]!)) >>> 0;
}

function derive(secret: Uint8Array, round: number, label: string): Buffer {
  const salt = Buffer.alloc(4);
  salt.writeUInt32LE(round);
  return Buffer.from(hkdfSync('sha256', secret, salt, label, 32));
}

/** d pseudo-random uint32 from a seed: AES-256-CTR over zeros, key = HKDF(seed, round, label). */
function prg(seed: Uint8Array, round: number, label: string, d: number): Uint32Array {
  const c = createCipheriv('aes-256-ctr', derive(seed, round, label), Buffer.alloc(16));
  const bytes = c.update(Buffer.alloc(4 * d));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length: d }, (_, k) => dv.getUint32(4 * k, true));
}

function seal(key: Buffer, plain: Uint8Array, aad: string): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([iv, ct, c.getAuthTag()]);
}

function open(key: Buffer, box: Buffer, aad: string): Buffer | null {
  if (box.length < 28) return null;
  try {
    const c = createDecipheriv('aes-256-gcm', key, box.subarray(0, 12));
    c.setAAD(Buffer.from(aad));
    c.setAuthTag(box.subarray(box.length - 16));
    return Buffer.concat([c.update(box.subarray(12, box.length - 16)), c.final()]);
  } catch {
    return null; // forged or not for us
  }
}

function rawPublic(k: KeyObject): Uint8Array {
  return Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url');
}

function importPublic(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

function importPrivate(raw: Uint8Array, pub: Uint8Array): KeyObject {
  return createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(raw).toString('base64url'), x: Buffer.from(pub).toString('base64url') },
    format: 'jwk',
  });
}

function json(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

function parse(b: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(b));
  } catch {
    return null;
  }
}

function sameList(a: unknown, b: readonly string[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
}
