// The fleet as the exporter sees it: one NodeRecord per node heard on the topic contract v1,
// updated by each message, aged out after a TTL. Anything on the bus that is not a valid v1
// payload is counted by reason and ignored: never trusted, never a crash (the bus is shared).
import { parseTopic, PAYLOAD_VERSION } from '../telemetry/topics.ts';
import { actionKind } from './action-kind.ts';
import { EVENT_KINDS, MAX_COMPONENTS, NodeRecord, type EventKindLabel } from './node-record.ts';
import { isObject, mac, readProblems, readTelemetry } from './read-telemetry.ts';

export interface ModelLimits {
  /** Link series per node; the rest are counted, not shown. */
  maxLinks: number;
  /** A node whose last message is older than this is shown offline ('silent'). */
  staleS: number;
  /** A node silent for this long is forgotten: its series disappear. */
  ttlS: number;
  /** Nodes in all; messages about further nodes are counted and ignored. */
  maxNodes: number;
}

export const DEFAULT_LIMITS: ModelLimits = { maxLinks: 32, staleS: 300, ttlS: 86_400, maxNodes: 20_000 };
/** Telemetry is at most 8192 bytes by contract; events carry at most 1 KiB of message. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

export type InvalidReason = 'topic' | 'too-large' | 'json' | 'version' | 'identity' | 'schema' | 'expired' | 'node-limit';

export class FleetModel {
  readonly nodes = new Map<string, NodeRecord>();
  readonly invalid = new Map<InvalidReason, number>();
  readonly messages = { state: 0, telemetry: 0, events: 0 };
  expired = 0;
  /** MAC → node name, from the nodes' own telemetry and an optional names file. */
  private readonly learnedNames = new Map<string, string>();
  /** Bumped whenever a MAC's name changes: cached label strings that show names are stale then. */
  namesVersion = 0;

  constructor(
    readonly limits: ModelLimits = DEFAULT_LIMITS,
    private readonly staticNames: ReadonlyMap<string, string> = new Map(),
  ) {}

  nameOf(macAddr: string): string {
    return this.staticNames.get(macAddr) ?? this.learnedNames.get(macAddr) ?? macAddr;
  }

  /**
   * One MQTT message. `retained`: a stored message (its own timestamp says when the node spoke).
   * Returns the node it changed, if any (the exporter then rebuilds that node's lines).
   */
  update(topic: string, payload: Uint8Array, retained: boolean, nowMs: number): NodeRecord | null {
    const n = this.take(topic, payload, retained, nowMs);
    if (n) n.cache = null;
    return n;
  }

  private take(topic: string, payload: Uint8Array, retained: boolean, nowMs: number): NodeRecord | null {
    const t = parseTopic(topic);
    if (!t || (t.kind !== 'state' && t.kind !== 'telemetry' && t.kind !== 'events')) return this.badNull('topic');
    this.messages[t.kind]++;
    const key = `${t.fleet}/${t.node}`;
    if (payload.length === 0) {
      // An empty retained message clears a topic: on the state topic, the node is removed.
      if (t.kind === 'state') this.remove(key);
      else if (t.kind === 'telemetry') {
        const n = this.nodes.get(key);
        if (n) n.telemetry = null;
        return n ?? null;
      }
      return null;
    }
    if (payload.length > MAX_PAYLOAD_BYTES) return this.badNull('too-large');
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
    } catch {
      return this.badNull('json');
    }
    if (!isObject(doc)) return this.badNull('schema');
    if (doc.v !== PAYLOAD_VERSION) return this.badNull('version');
    if (doc.fleet !== t.fleet || doc.node !== t.node) return this.badNull('identity');
    const at = retained ? spokeAt(doc, t.kind, nowMs) : nowMs;
    if (at === null) return this.badNull('schema');
    if (nowMs - at > this.limits.ttlS * 1000) return this.badNull('expired');
    let n = this.nodes.get(key);
    if (!n) {
      if (this.nodes.size >= this.limits.maxNodes) return this.badNull('node-limit');
      n = new NodeRecord(t.fleet, t.node);
      this.nodes.set(key, n);
    }
    if (t.kind === 'state') this.takeState(n, doc, retained);
    else if (t.kind === 'telemetry') this.takeTelemetry(n, doc, nowMs);
    else if (!this.takeEvent(n, doc)) return null;
    n.seen(at);
    return n;
  }

  /** Forgets nodes silent for longer than the TTL. */
  sweep(nowMs: number): void {
    for (const [key, n] of this.nodes) if (nowMs - n.lastSeenMs > this.limits.ttlS * 1000) this.remove(key, true);
  }

  online(n: NodeRecord, nowMs: number): boolean {
    return n.state !== 'stopped' && n.state !== 'lost' && nowMs - n.lastSeenMs <= this.limits.staleS * 1000;
  }

  private remove(key: string, expired = false): void {
    const n = this.nodes.get(key);
    if (!n) return;
    this.nodes.delete(key);
    if (expired) this.expired++;
    this.forgetName(n);
  }

  private forgetName(n: NodeRecord): void {
    if (n.address && this.learnedNames.get(n.address) === n.node) {
      this.learnedNames.delete(n.address);
      this.namesVersion++;
    }
  }

  private bad(reason: InvalidReason): void {
    this.invalid.set(reason, (this.invalid.get(reason) ?? 0) + 1);
  }

  private badNull(reason: InvalidReason): null {
    this.bad(reason);
    return null;
  }

  private takeState(n: NodeRecord, doc: Record<string, unknown>, retained: boolean): void {
    if (doc.state === 'online') {
      n.state = 'online';
      // Seen as it happened: every event of this boot should reach us, from seq 1.
      if (!retained && typeof doc.boot === 'string' && doc.boot.length <= 64) n.ledger.begin(doc.boot);
    }
    else if (doc.state === 'offline') n.state = doc.reason === 'lost' ? 'lost' : 'stopped';
    else return this.bad('schema');
    if (typeof doc.version === 'string') n.version = doc.version.slice(0, 32);
  }

  private takeTelemetry(n: NodeRecord, doc: Record<string, unknown>, nowMs: number): void {
    n.telemetry = readTelemetry(doc, nowMs, this.limits.maxLinks);
    const agent = isObject(doc.agent) ? doc.agent : {};
    if (typeof agent.version === 'string') n.version = agent.version.slice(0, 32);
    const own = mac(isObject(doc.mesh) ? doc.mesh.address : null);
    if (own !== n.address) {
      this.forgetName(n);
      n.address = own;
    }
    if (own && this.learnedNames.get(own) !== n.node) {
      this.learnedNames.set(own, n.node);
      this.namesVersion++;
    }
    const problems = new Map(readProblems(doc));
    for (const name of n.components.keys()) n.components.set(name, problems.get(name) ?? 'ok');
    for (const [name, state] of problems) if (n.components.size < MAX_COMPONENTS || n.components.has(name)) n.components.set(name, state);
  }

  /** False for a duplicate or a malformed event (not counted as seen). */
  private takeEvent(n: NodeRecord, doc: Record<string, unknown>): boolean {
    const { boot, seq } = doc;
    if (typeof boot !== 'string' || boot.length > 64 || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
      this.bad('schema');
      return false;
    }
    if (n.ledger.take(boot, seq) === 'duplicate') return false;
    const kind: EventKindLabel = (EVENT_KINDS as readonly string[]).includes(doc.kind as string) ? (doc.kind as EventKindLabel) : 'other';
    n.events.set(kind, (n.events.get(kind) ?? 0) + 1);
    if (kind === 'action' || kind === 'rollback') {
      const key = `${kind}/${actionKind(typeof doc.message === 'string' ? doc.message : '')}` as const;
      n.healing.set(key, (n.healing.get(key) ?? 0) + 1);
    }
    return true;
  }
}

/** When a retained message was spoken: its own timestamp, never in the future. */
function spokeAt(doc: Record<string, unknown>, kind: 'state' | 'telemetry' | 'events', nowMs: number): number | null {
  // A retained 'online' is the broker's word that the node is connected now (else it would
  // have published the Last Will over it); `since` is when that connection began.
  if (kind === 'state' && doc.state === 'online') return nowMs;
  const field = kind === 'state' ? doc.since : doc.ts;
  if (typeof field !== 'string') return null;
  const t = Date.parse(field);
  return Number.isFinite(t) ? Math.min(t, nowMs) : null;
}
