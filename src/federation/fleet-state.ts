// The replicated fleet state: a map of last-writer-wins registers stamped with hybrid logical
// clocks. Whether an entry is accepted depends only on the entry itself and the fleet CA (never
// on what else this node holds), so every node that has seen the same entries holds the same
// state: the CRDT property that partition healing relies on. Trust (revocation, quarantine
// quorum) is computed from the merged state when asked.
//
// Keys: node/<peer-id>          registry entry, written and refreshed by that node (TTL)
//       vote/<target>/<voter>   quarantine vote, written by the voter (TTL; tombstone withdraws)
//       setting/<name>          fleet-wide setting, signed by the fleet CA
//       crl                     the newest CRL signed by the fleet CA (newest by cRLNumber)
import { createHash, verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { CertificateError, FleetCa, parseCertificates, verifyNodeCertificate } from './fleet-ca.ts';
import { CrlError, isRevoked, newerCrl, verifyCrl, type Crl } from './crl.ts';
import { peerIdOfKey, type Signer } from './ed25519.ts';
import type { EnvelopeTrace } from './envelope.ts';
import { compareStamps, HybridClock } from './hlc.ts';
import {
  decodeEntry,
  encodeEntry,
  EntryError,
  KIND_CRL,
  KIND_NODE,
  KIND_SETTING,
  nodeSigner,
  stateDomain,
  concat,
  verifyNodeEntry,
  type StateEntry,
} from './state-entry.ts';
import { encodeVoteValue } from './vote-value.ts';

export interface NodeInfo {
  name: string;
  addrs: string[];
  version: string;
  capabilities: string[];
}

interface RegistryRecord extends NodeInfo {
  peerId: string;
  lastSeen: number;
  leaf: X509Certificate;
  serial: string;
}

export interface FleetStateOptions {
  fleet: string;
  trustDomain: string;
  ca: FleetCa;
  signer: Signer;
  /** This node's certificate chain (PEM), carried in its registry entry. */
  certPem: string;
  quorum: number;
  entryTtlMs: number;
  maxSkewMs: number;
  now?: () => number;
}

export type MergeResult = { ok: true; changed: boolean; key: string } | { ok: false; reason: string };
export type ChangeKind = 'node' | 'vote' | 'setting' | 'crl';

const MAX_ENTRIES = 10_000;
const MAX_VOTES_PER_VOTER = 64;
const MAX_NODE_VALUE = 32 * 1024;
const PEER_ID = /^[A-Za-z0-9]{1,128}$/;

export class FleetState {
  private readonly entries = new Map<string, StateEntry>();
  private readonly registry = new Map<string, RegistryRecord>();
  private currentCrl: Crl | null = null;
  private readonly clock: HybridClock;
  private readonly now: () => number;
  private readonly sign: (b: Uint8Array) => Uint8Array;
  private readonly listeners: ((kind: ChangeKind, key: string) => void)[] = [];

  constructor(private readonly options: FleetStateOptions) {
    this.now = options.now ?? Date.now;
    this.clock = new HybridClock(this.now);
    this.sign = nodeSigner(options.fleet, options.signer);
  }

  onChange(l: (kind: ChangeKind, key: string) => void): void {
    this.listeners.push(l);
  }

  // ---- local writes (each returns the entry to gossip) ----

  announce(info: NodeInfo): StateEntry {
    return this.write(`node/${this.options.signer.peerId}`, Buffer.from(JSON.stringify({ ...info, cert: this.options.certPem })), false);
  }

  /** trace: the operator command's context, signed into the vote's value (vote-value.ts). */
  vote(target: string, reason: string, on = true, trace?: EnvelopeTrace): StateEntry {
    if (!PEER_ID.test(target)) throw new EntryError(`'${target}' is not a peer id`);
    return this.write(`vote/${target}/${this.options.signer.peerId}`, encodeVoteValue(on, reason, trace), !on);
  }

  /** Adopts a CRL the operator put on this node; returns the entry when it is newer than ours. */
  offerCrl(der: Uint8Array): StateEntry | null {
    const crl = verifyCrl(this.options.ca, der);
    if (this.currentCrl && newerCrl(this.currentCrl, crl) === this.currentCrl) return null;
    const e = encodeEntry({ kind: KIND_CRL, key: 'crl', stamp: { wall: crl.thisUpdate, counter: 0 }, ttlMs: 0, tombstone: false, value: crl.der }, null);
    const r = this.merge(e);
    return r.ok && r.changed ? e : null;
  }

  private write(key: string, value: Uint8Array, tombstone: boolean): StateEntry {
    const e = encodeEntry({ kind: KIND_NODE, key, stamp: this.clock.tick(), author: this.options.signer.publicKey, ttlMs: this.options.entryTtlMs, tombstone, value }, this.sign);
    const r = this.merge(e);
    if (!r.ok) throw new EntryError(`own entry refused: ${r.reason}`);
    return e;
  }

  // ---- merging ----

  merge(input: Uint8Array | StateEntry): MergeResult {
    let e: StateEntry;
    try {
      e = input instanceof Uint8Array ? decodeEntry(input) : input;
    } catch (err) {
      return { ok: false, reason: `malformed: ${(err as Error).message}` };
    }
    const now = this.now();
    if (e.stamp.wall > now + this.options.maxSkewMs && e.kind !== KIND_CRL) return { ok: false, reason: 'future-dated' };
    if (e.ttlMs > 0 && e.stamp.wall + e.ttlMs < now) return { ok: true, changed: false, key: e.key };
    const old = this.entries.get(e.key);
    if (!old && this.entries.size >= MAX_ENTRIES) return { ok: false, reason: 'fleet state full' };
    // Cheap ordering first: an entry that loses needs no signature check.
    if (old && e.kind !== KIND_CRL && !wins(e, old)) return { ok: true, changed: false, key: e.key };
    const check = this.validate(e, old);
    if (typeof check === 'string') return { ok: false, reason: check };
    if (e.kind === KIND_CRL) {
      if (this.currentCrl && newerCrl(this.currentCrl, check as Crl) === this.currentCrl) return { ok: true, changed: false, key: e.key };
      this.currentCrl = check as Crl;
    }
    if (e.kind === KIND_NODE) this.clock.observe(e.stamp);
    this.entries.set(e.key, e);
    if (e.key.startsWith('node/')) {
      if (check && typeof check === 'object' && 'peerId' in check) this.registry.set(check.peerId, check);
    }
    const kind: ChangeKind = e.kind === KIND_CRL ? 'crl' : e.kind === KIND_SETTING ? 'setting' : e.key.startsWith('node/') ? 'node' : 'vote';
    for (const l of this.listeners) l(kind, e.key);
    return { ok: true, changed: true, key: e.key };
  }

  /** A reason string on refusal; the parsed CRL / registry record when there is one. */
  private validate(e: StateEntry, old: StateEntry | undefined): string | Crl | RegistryRecord | null {
    if (e.kind === KIND_CRL) {
      if (e.key !== 'crl') return 'a CRL entry must have key crl';
      try {
        return verifyCrl(this.options.ca, e.value);
      } catch (err) {
        return err instanceof CrlError ? err.message : String(err);
      }
    }
    if (e.kind === KIND_SETTING) {
      if (!/^setting\/[A-Za-z0-9_.-]{1,64}$/.test(e.key)) return 'bad setting key';
      const ok = this.options.ca.anchors.some((a) => {
        try {
          return cryptoVerify(a.publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', concat(stateDomain(this.options.fleet), e.signed), a.publicKey, e.signature);
        } catch {
          return false;
        }
      });
      return ok ? null : 'setting not signed by the fleet CA';
    }
    const parts = e.key.split('/');
    let authorId: string;
    try {
      authorId = peerIdOfKey(e.author);
    } catch {
      return 'author is not an ed25519 key';
    }
    if (parts[0] === 'node' && parts.length === 2) {
      if (parts[1] !== authorId) return 'registry entry not written by its node';
    } else if (parts[0] === 'vote' && parts.length === 3 && PEER_ID.test(parts[1]!)) {
      if (parts[2] !== authorId) return 'vote not written by its voter';
      if (!old && this.votesBy(authorId) >= MAX_VOTES_PER_VOTER) return 'too many votes from one voter';
    } else {
      return `unknown key ${e.key.slice(0, 80)}`;
    }
    if (!verifyNodeEntry(this.options.fleet, e)) return 'bad signature';
    if (parts[0] === 'node' && !e.tombstone) return this.registryRecord(authorId, e);
    return null;
  }

  private registryRecord(peerId: string, e: StateEntry): string | RegistryRecord {
    if (e.value.length > MAX_NODE_VALUE) return 'registry entry too large';
    let v: Partial<NodeInfo> & { cert?: unknown };
    try {
      v = JSON.parse(Buffer.from(e.value).toString('utf8'));
    } catch {
      return 'registry entry is not JSON';
    }
    const strs = (x: unknown, max: number) => Array.isArray(x) && x.length <= max && x.every((s) => typeof s === 'string' && s.length <= 256);
    if (typeof v.name !== 'string' || v.name.length > 64 || typeof v.version !== 'string' || v.version.length > 64 || !strs(v.addrs, 16) || !strs(v.capabilities, 32) || typeof v.cert !== 'string')
      return 'registry entry fields malformed';
    try {
      const id = verifyNodeCertificate(this.options.ca, parseCertificates(v.cert, `certificate of ${peerId}`), { trustDomain: this.options.trustDomain, now: this.now() });
      if (id.peerId !== peerId) return `registry certificate names ${id.peerId}`;
      return { peerId, name: v.name, addrs: v.addrs!, version: v.version, capabilities: v.capabilities!, lastSeen: e.stamp.wall, leaf: id.leaf, serial: id.leaf.serialNumber };
    } catch (err) {
      return err instanceof CertificateError ? `registry certificate: ${err.message}` : String(err);
    }
  }

  private votesBy(voter: string): number {
    let n = 0;
    for (const k of this.entries.keys()) if (k.startsWith('vote/') && k.endsWith(`/${voter}`)) n++;
    return n;
  }

  /** Drops entries whose author stopped refreshing them. */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.ttlMs > 0 && e.stamp.wall + e.ttlMs < now) {
        this.entries.delete(k);
        if (k.startsWith('node/')) this.registry.delete(k.slice(5));
        n++;
      }
    }
    return n;
  }

  // ---- reading ----

  all(): StateEntry[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }

  crl(): Crl | null {
    return this.currentCrl;
  }

  revoked(cert: X509Certificate): boolean {
    return this.currentCrl !== null && isRevoked(this.currentCrl, cert);
  }

  /** A node this state vouches for: certificate verified (in its registry entry), not revoked. */
  trusted(peerId: string): boolean {
    const r = this.registry.get(peerId);
    return !!r && !this.revoked(r.leaf);
  }

  nodes(): (NodeInfo & { peerId: string; lastSeen: number })[] {
    return [...this.registry.values()].map(({ peerId, name, addrs, version, capabilities, lastSeen }) => ({ peerId, name, addrs, version, capabilities, lastSeen }));
  }

  node(peerId: string): RegistryRecord | undefined {
    return this.registry.get(peerId);
  }

  /** A new quarantine quorum (a config change); quarantined() counts with it from now on. */
  setQuorum(n: number): void {
    this.options.quorum = n;
  }

  /** Targets with votes from at least `quorum` distinct trusted voters (not counting self-votes). */
  quarantined(extraTrusted: (peerId: string) => boolean = () => false): string[] {
    const voters = new Map<string, Set<string>>();
    for (const [k, e] of this.entries) {
      if (e.tombstone || !k.startsWith('vote/')) continue;
      const [, target, voter] = k.split('/') as [string, string, string];
      if (voter === target || !(this.trusted(voter) || extraTrusted(voter))) continue;
      let s = voters.get(target);
      if (!s) voters.set(target, (s = new Set()));
      s.add(voter);
    }
    return [...voters].filter(([, s]) => s.size >= this.options.quorum).map(([t]) => t).sort();
  }

  /** The voters whose standing (not withdrawn) vote names `target`. */
  voters(target: string): string[] {
    const prefix = `vote/${target}/`;
    const out: string[] = [];
    for (const [k, e] of this.entries) if (k.startsWith(prefix) && !e.tombstone) out.push(k.slice(prefix.length));
    return out.sort();
  }

  setting(name: string): string | undefined {
    const e = this.entries.get(`setting/${name}`);
    return e && !e.tombstone ? Buffer.from(e.value).toString('utf8') : undefined;
  }

  /** The entry under `key` as it travels (e.g. 'setting/healing.cooldown'). */
  entry(key: string): StateEntry | undefined {
    return this.entries.get(key);
  }

  settings(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, e] of [...this.entries].sort(([a], [b]) => (a < b ? -1 : 1)))
      if (k.startsWith('setting/') && !e.tombstone) out[k.slice('setting/'.length)] = Buffer.from(e.value).toString('utf8');
    return out;
  }

  /** Equal on nodes holding the same entries. */
  digest(): string {
    const h = createHash('sha256');
    for (const k of [...this.entries.keys()].sort()) h.update(k).update('\0').update(createHash('sha256').update(this.entries.get(k)!.bytes).digest());
    return h.digest('hex').slice(0, 32);
  }
}

/** LWW order: HLC stamp, then author, then the bytes, so that every node picks the same winner. */
function wins(a: StateEntry, b: StateEntry): boolean {
  const c = compareStamps(a.stamp, b.stamp) || Buffer.compare(Buffer.from(a.author), Buffer.from(b.author)) || Buffer.compare(Buffer.from(a.bytes), Buffer.from(b.bytes));
  return c > 0;
}
