// SimulatedMesh: a seeded, deterministic batman-adv mesh on virtual time. It owns the radio
// fabric, the link model and the protocol engine, injects faults, keeps a bounded event log,
// and answers, per node, what that node's kernel would answer over netlink.
import {
  DEFAULT_MESH_SETTINGS,
  MeshError,
  type Gateway,
  type HardIfSettings,
  type HardInterface,
  type MeshInfo,
  type MeshSettings,
  type Neighbour,
  type Originator,
  type RoutingAlgo,
} from '../driver.ts';
import { BatmanIv } from './batman-iv.ts';
import { EventQueue } from './event-queue.ts';
import { DEFAULT_INTERFACES, Fabric, type InterfaceCounters, type InterfaceSpec } from './fabric.ts';
import { LinkModel, resolveLinkModel, describeLinkModel, type LinkHealth, type LinkModelDescription, type LinkModelParams, type LinkTransition } from './link-model.ts';
import { normaliseMac } from './macs.ts';
import { applyHardIfChanges, applyMeshChanges, type NodeSettings } from './node-settings.ts';
import { Prng, seedToU32 } from './prng.ts';
import { SimulatorError } from './errors.ts';
import { buildTopology, nodesForTopology, type TopologySpec } from './topology.ts';
import { SimulatedMeshDriver } from './sim-driver.ts';

export interface SimulatedMeshOptions {
  seed?: number | string;
  /** Node count; implied by 'diamond' (4) and by an explicit link list. */
  nodes?: number;
  topology?: TopologySpec;
  /** 'mesh' topology: mean number of neighbours. */
  meshDegree?: number;
  /** Hard interfaces of every node, one band each. Default mesh0 (5 GHz) and mesh1 (2.4 GHz). */
  interfaces?: InterfaceSpec[];
  linkModel?: Partial<LinkModelParams>;
  algo?: RoutingAlgo;
  /** Initial mesh settings (applied with the kernel's validation), for all nodes or per node. */
  settings?: Partial<MeshSettings> | ((node: number) => Partial<MeshSettings>);
  nodeNames?: string[];
  /** Bounded event log size. */
  eventLogLimit?: number;
}

export type WorldEventKind =
  | 'link-killed'
  | 'link-degraded'
  | 'link-restored'
  | 'partition'
  | 'heal'
  | 'link-flap'
  | 'link-flap-down'
  | 'link-flap-up'
  | 'interface-stuck'
  | 'interface-down'
  | 'interface-up'
  | 'neighbour-blocked'
  | 'neighbour-unblocked'
  | 'link-degrading'
  | 'link-failed'
  | 'link-recovered'
  | 'gateway-selected';

export interface WorldEvent {
  atMs: number;
  kind: WorldEventKind;
  description: string;
  /** Node indices concerned. */
  nodes: number[];
  ifname?: string;
}

export interface LinkInfo {
  index: number;
  a: number;
  b: number;
  ifname: string;
  band: string;
  health: LinkHealth;
  burst: 'good' | 'bad';
  killed: boolean;
  partitioned: boolean;
  flapping: boolean;
  /** Loss added by an injected degradation right now (0..1). */
  injectedLoss: number;
  basePdrAB: number;
  basePdrBA: number;
  /** Delivery probability per frame right now, each direction. */
  pdrAB: number;
  pdrBA: number;
  attemptsAB: number;
  deliveredAB: number;
  attemptsBA: number;
  deliveredBA: number;
}

export interface InterfaceState {
  adminUp: boolean;
  stuck: boolean;
  /** What batman-adv reports as ACTIVE: admin up (a hung radio still looks active). */
  active: boolean;
  primary: boolean;
}

const EV_EMIT = 0;
const EV_LINK_TICK = 1;
const EV_PURGE = 2;
const EV_TIMER = 3;
const PURGE_PERIOD_MS = 1000;
const MESH_IFNAME = 'bat0';
const SIM_VERSION = 'sim-1';

export class SimulatedMesh {
  readonly seed: number | string;
  readonly algo: RoutingAlgo;
  readonly nodeNames: readonly string[];
  readonly positions: readonly { x: number; y: number }[];
  readonly linkParams: LinkModelParams;
  /** @internal engine parts, read by the driver. */
  readonly fabric: Fabric;
  /** @internal */
  readonly engine: BatmanIv;
  /** @internal */
  readonly linkModel: LinkModel;
  private readonly rng: Prng;
  private readonly queue = new EventQueue();
  private readonly settingsByNode: NodeSettings[];
  private readonly settingsListeners: Set<(s: MeshSettings) => void>[];
  private readonly eventListeners = new Set<(e: WorldEvent) => void>();
  private readonly log: WorldEvent[] = [];
  private readonly eventLogLimit: number;
  private readonly timers = new Map<number, () => void>();
  /** Pending flap timers per node pair ("a-b", a < b), so that a restore or a new flap can cancel them. */
  private readonly flapTimers = new Map<string, number[]>();
  private nextTimer = 0;
  private readonly partitions: number[][] = [];
  private readonly transitions: LinkTransition[] = [];
  private time = 0;
  private stepping = false;

  constructor(opts: SimulatedMeshOptions = {}) {
    this.seed = opts.seed ?? 1;
    if (!(typeof this.seed === 'string' || (typeof this.seed === 'number' && Number.isFinite(this.seed)))) {
      throw new SimulatorError('INVALID', `seed must be a finite number or a string, got ${String(this.seed)}`);
    }
    const seedWord = seedToU32(this.seed);
    this.rng = new Prng(this.seed);
    this.algo = opts.algo ?? 'BATMAN_IV';
    if (this.algo !== 'BATMAN_IV') {
      throw new SimulatorError('INVALID', `routing algorithm ${String(this.algo)} is not simulated (only BATMAN_IV)`);
    }
    this.linkParams = resolveLinkModel(opts.linkModel);
    const spec = opts.topology ?? 'chain';
    const n = nodesForTopology(spec, opts.nodes);
    const names = opts.nodeNames ?? Array.from({ length: n }, (_, i) => `n${i + 1}`);
    if (names.length !== n) throw new SimulatorError('INVALID', `nodeNames has ${names.length} names for ${n} nodes`);
    this.nodeNames = [...names];
    this.eventLogLimit = opts.eventLogLimit ?? 1000;
    if (!Number.isInteger(this.eventLogLimit) || this.eventLogLimit < 1) throw new SimulatorError('INVALID', 'eventLogLimit must be a positive integer');
    const topo = buildTopology(spec, n, this.rng, opts.meshDegree);
    this.positions = topo.positions;
    this.fabric = new Fabric(seedWord, [...names], opts.interfaces ?? DEFAULT_INTERFACES, topo, this.linkParams, this.rng);
    this.linkModel = new LinkModel(this.linkParams, this.rng, this.fabric.basePdr);
    this.settingsByNode = [];
    for (let i = 0; i < n; i++) {
      const initial = typeof opts.settings === 'function' ? opts.settings(i) : opts.settings;
      try {
        this.settingsByNode.push(applyMeshChanges({ ...DEFAULT_MESH_SETTINGS }, initial ?? {}, this.algo, true));
      } catch (e) {
        throw new SimulatorError('INVALID', `initial settings of ${names[i]}: ${(e as Error).message}`);
      }
    }
    this.settingsListeners = Array.from({ length: n }, () => new Set());
    this.engine = new BatmanIv(this.fabric, this.rng, this.settingsByNode, (node, gw) => this.gatewayChanged(node, gw));
    this.engine.linkProb = this.linkModel.deliveryProb;
    // Interfaces come up at random phases of their OGM interval, as routers booted at different times.
    for (let h = 0; h < this.fabric.H; h++) {
      const interval = this.settingsByNode[this.fabric.nodeOf(h)]!.origIntervalMs;
      this.queue.push(this.rng.int(interval), EV_EMIT, h);
    }
    this.queue.push(this.linkParams.tickMs, EV_LINK_TICK, 0);
    this.queue.push(PURGE_PERIOD_MS, EV_PURGE, 0);
  }

  /** Virtual time in ms since the world was created. */
  get nowMs(): number {
    return this.time;
  }

  get nodeCount(): number {
    return this.fabric.N;
  }

  get ifnames(): readonly string[] {
    return this.fabric.ifnames;
  }

  /** Advances virtual time by `dtMs`, running every OGM, link tick and purge due on the way. */
  step(dtMs: number): void {
    if (typeof dtMs !== 'number' || !Number.isFinite(dtMs) || dtMs < 0) {
      throw new SimulatorError('INVALID', `step needs a finite, non-negative number of ms, got ${String(dtMs)}`);
    }
    if (this.stepping) throw new SimulatorError('INVALID', 'step called from inside an event listener');
    this.stepping = true;
    try {
      const end = this.time + dtMs;
      const engine = this.engine;
      while (this.queue.peekTime() <= end) {
        const ev = this.queue.pop()!;
        this.time = ev.at;
        engine.setNow(ev.at);
        switch (ev.kind) {
          case EV_EMIT:
            engine.emit(ev.id);
            this.queue.push(ev.at + engine.nextEmitDelay(ev.id), EV_EMIT, ev.id);
            break;
          case EV_LINK_TICK:
            this.linkModel.tick(ev.at, this.transitions);
            this.fabric.aggregateFill.fill(0);
            this.flushTransitions();
            this.queue.push(ev.at + this.linkParams.tickMs, EV_LINK_TICK, 0);
            break;
          case EV_PURGE:
            engine.purge();
            this.queue.push(ev.at + PURGE_PERIOD_MS, EV_PURGE, 0);
            break;
          case EV_TIMER: {
            const fn = this.timers.get(ev.id);
            this.timers.delete(ev.id);
            fn?.();
            break;
          }
        }
      }
      this.time = end;
      engine.setNow(end);
    } finally {
      this.stepping = false;
    }
  }

  /** Runs `fn` at virtual time now + delayMs (inside a later step). */
  private at(delayMs: number, fn: () => void): number {
    const id = this.nextTimer++;
    this.timers.set(id, fn);
    this.queue.push(this.time + delayMs, EV_TIMER, id);
    return id;
  }

  /** Drops the pending steps of a flap between a and b (their queue entries then do nothing). */
  private cancelFlap(a: number, b: number): void {
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    for (const id of this.flapTimers.get(key) ?? []) this.timers.delete(id);
    this.flapTimers.delete(key);
  }

  // ---- events -------------------------------------------------------------------------------

  /** Subscribes to world events; returns the unsubscribe function. */
  on(type: 'event', listener: (e: WorldEvent) => void): () => void {
    if (type !== 'event') throw new SimulatorError('INVALID', `unknown event type '${String(type)}'`);
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** The bounded event log, oldest first. */
  events(): WorldEvent[] {
    return this.log.map((e) => ({ ...e, nodes: [...e.nodes] }));
  }

  private record(kind: WorldEventKind, description: string, nodes: number[], ifname?: string): WorldEvent {
    const e: WorldEvent = { atMs: this.time, kind, description, nodes, ...(ifname === undefined ? {} : { ifname }) };
    this.log.push(e);
    if (this.log.length > this.eventLogLimit) this.log.splice(0, this.log.length - this.eventLogLimit);
    for (const l of this.eventListeners) {
      try {
        l(e);
      } catch {
        // A listener's failure must not break the simulation.
      }
    }
    return e;
  }

  private flushTransitions(): void {
    if (this.transitions.length === 0) return;
    for (const t of this.transitions) {
      const { a, b, ifname } = this.linkEnds(t.link);
      this.record(t.kind, `${this.nodeNames[a]}-${this.nodeNames[b]} on ${ifname}: ${t.detail}`, [a, b], ifname);
    }
    this.transitions.length = 0;
  }

  private gatewayChanged(node: number, gw: number): void {
    const desc = gw < 0 ? 'no gateway' : this.describeMac(this.fabric.macs[gw]!);
    this.record('gateway-selected', `${this.nodeNames[node]} selected ${desc}`, gw < 0 ? [node] : [node, this.fabric.nodeOf(gw)]);
  }

  // ---- names --------------------------------------------------------------------------------

  nodeName(node: number): string {
    this.fabric.checkNode(node);
    return this.nodeNames[node]!;
  }

  macOf(node: number, ifname: string): string {
    return this.fabric.macs[this.fabric.iface(node, ifname)]!;
  }

  meshMacOf(node: number): string {
    this.fabric.checkNode(node);
    return this.fabric.meshMacs[node]!;
  }

  /** Node index owning a hard-interface or bat0 MAC, or -1. */
  nodeOfMac(mac: string): number {
    const m = normaliseMac(mac);
    if (m === null) return -1;
    const h = this.fabric.macToIface.get(m);
    if (h !== undefined) return this.fabric.nodeOf(h);
    return this.fabric.meshMacs.indexOf(m);
  }

  /** "n3/mesh1" for a hard interface, "n3" for bat0, the MAC itself when unknown. */
  describeMac(mac: string): string {
    const m = normaliseMac(mac);
    if (m === null) return String(mac);
    const h = this.fabric.macToIface.get(m);
    if (h !== undefined) return `${this.nodeNames[this.fabric.nodeOf(h)]}/${this.fabric.ifnames[h % this.fabric.K]}`;
    const n = this.fabric.meshMacs.indexOf(m);
    return n >= 0 ? this.nodeNames[n]! : m;
  }

  describeLinkModel(): LinkModelDescription {
    return describeLinkModel(this.linkParams);
  }

  // ---- ground truth -------------------------------------------------------------------------

  private linkEnds(l: number): { a: number; b: number; ifname: string; band: string } {
    const f = this.fabric;
    const ha = f.dSend[2 * l]!;
    const hb = f.dRecv[2 * l]!;
    return { a: f.nodeOf(ha), b: f.nodeOf(hb), ifname: f.ifnames[ha % f.K]!, band: f.bands[ha % f.K]! };
  }

  /** Every radio link with its true state: what experiments label their data with. */
  links(): LinkInfo[] {
    const f = this.fabric;
    const lm = this.linkModel;
    const out: LinkInfo[] = [];
    for (let l = 0; l < f.L; l++) {
      const ends = this.linkEnds(l);
      out.push({
        index: l,
        ...ends,
        health: lm.healthOf(l),
        burst: lm.burstStateOf(l),
        killed: lm.killed[l] === 1,
        partitioned: lm.partitioned[l]! > 0,
        flapping: lm.flapDown[l] === 1,
        injectedLoss: lm.injectedLoss(l, this.time),
        basePdrAB: f.basePdr[2 * l]!,
        basePdrBA: f.basePdr[2 * l + 1]!,
        pdrAB: lm.deliveryProb[2 * l]!,
        pdrBA: lm.deliveryProb[2 * l + 1]!,
        attemptsAB: f.linkAttempts[2 * l]!,
        deliveredAB: f.linkDelivered[2 * l]!,
        attemptsBA: f.linkAttempts[2 * l + 1]!,
        deliveredBA: f.linkDelivered[2 * l + 1]!,
      });
    }
    return out;
  }

  /** Interface statistics, like /sys/class/net/<ifname>/statistics (packets frozen while the radio hangs; its tx_errors grow). */
  interfaceCounters(node: number, ifname: string): InterfaceCounters {
    return this.fabric.countersOf(this.fabric.iface(node, ifname));
  }

  interfaceState(node: number, ifname: string): InterfaceState {
    const f = this.fabric;
    const h = f.iface(node, ifname);
    return { adminUp: f.adminUp[h] === 1, stuck: f.stuck[h] === 1, active: f.adminUp[h] === 1, primary: this.engine.primary[node] === h };
  }

  // ---- faults -------------------------------------------------------------------------------

  private pairName(a: number, b: number): string {
    return `${this.nodeNames[a]}-${this.nodeNames[b]}`;
  }

  /** Both directions of every band between a and b stop delivering, until restoreLink. */
  killLink(a: number, b: number): WorldEvent {
    for (const l of this.fabric.linksBetween(a, b)) this.linkModel.killed[l] = 1;
    this.linkModel.recompute(this.time);
    return this.record('link-killed', `${this.pairName(a, b)} killed`, [a, b]);
  }

  /** Adds loss on every band between a and b, ramping linearly to `lossRatio` over `rampMs`. */
  degradeLink(a: number, b: number, opts: { lossRatio: number; rampMs?: number }): WorldEvent {
    const loss = opts?.lossRatio;
    const ramp = opts?.rampMs ?? 0;
    if (typeof loss !== 'number' || !(loss >= 0 && loss <= 1)) throw new SimulatorError('INVALID', `lossRatio must be in 0..1, got ${String(loss)}`);
    if (typeof ramp !== 'number' || !Number.isFinite(ramp) || ramp < 0) throw new SimulatorError('INVALID', `rampMs must be >= 0, got ${String(ramp)}`);
    for (const l of this.fabric.linksBetween(a, b)) this.linkModel.degrade(l, loss, ramp, this.time);
    return this.record('link-degraded', `${this.pairName(a, b)} degrading to ${loss} loss over ${ramp} ms`, [a, b]);
  }

  /** Clears kill, degradation and flapping between a and b (natural failures run their course). */
  restoreLink(a: number, b: number): WorldEvent {
    for (const l of this.fabric.linksBetween(a, b)) this.linkModel.restore(l, this.time);
    this.cancelFlap(a, b);
    return this.record('link-restored', `${this.pairName(a, b)} restored`, [a, b]);
  }

  /** No frame crosses between the two groups until heal(). */
  partition(groupA: number[], groupB: number[]): WorldEvent {
    if (!Array.isArray(groupA) || !Array.isArray(groupB) || groupA.length === 0 || groupB.length === 0) {
      throw new SimulatorError('INVALID', 'partition needs two non-empty arrays of node indices');
    }
    for (const n of [...groupA, ...groupB]) this.fabric.checkNode(n);
    const inA = new Set(groupA);
    if (groupB.some((n) => inA.has(n))) throw new SimulatorError('INVALID', 'partition groups overlap');
    const cut: number[] = [];
    for (const a of groupA) {
      for (const b of groupB) {
        const list = this.fabric.pairLinks.get(a < b ? `${a}-${b}` : `${b}-${a}`);
        if (list) cut.push(...list);
      }
    }
    for (const l of cut) this.linkModel.partitioned[l]!++;
    this.partitions.push(cut);
    this.linkModel.recompute(this.time);
    const names = (g: number[]) => g.map((n) => this.nodeNames[n]).join(',');
    return this.record('partition', `partition {${names(groupA)}} | {${names(groupB)}}: ${cut.length} links cut`, [...groupA, ...groupB]);
  }

  /** Ends every partition. */
  heal(): WorldEvent {
    let count = 0;
    for (const cut of this.partitions) {
      for (const l of cut) this.linkModel.partitioned[l]!--;
      count += cut.length;
    }
    this.partitions.length = 0;
    this.linkModel.recompute(this.time);
    return this.record('heal', `partitions healed: ${count} links back`, []);
  }

  /** `count` cycles of down for periodMs/2 then up for periodMs/2, starting now. */
  flapLink(a: number, b: number, opts: { periodMs: number; count: number }): WorldEvent {
    const period = opts?.periodMs;
    const count = opts?.count;
    if (typeof period !== 'number' || !Number.isFinite(period) || period <= 0) throw new SimulatorError('INVALID', `periodMs must be > 0, got ${String(period)}`);
    if (!Number.isInteger(count) || count < 1) throw new SimulatorError('INVALID', `count must be a positive integer, got ${String(count)}`);
    const links = this.fabric.linksBetween(a, b);
    const set = (down: number) => {
      for (const l of links) this.linkModel.flapDown[l] = down;
      this.linkModel.recompute(this.time);
      this.record(down ? 'link-flap-down' : 'link-flap-up', `${this.pairName(a, b)} ${down ? 'down' : 'up'}`, [a, b]);
    };
    // A new flap on the same pair replaces the one still running.
    this.cancelFlap(a, b);
    const ev = this.record('link-flap', `${this.pairName(a, b)} flapping ${count} times every ${period} ms`, [a, b]);
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(this.at(i * period, () => set(1)));
      ids.push(this.at(i * period + period / 2, () => set(0)));
    }
    this.flapTimers.set(a < b ? `${a}-${b}` : `${b}-${a}`, ids);
    return ev;
  }

  /** The ath9k "radio hang": the interface stays up and active but passes nothing (packet counters frozen, tx_errors growing). A restart (down, up) clears it. */
  stuckInterface(node: number, ifname: string): WorldEvent {
    const h = this.fabric.iface(node, ifname);
    this.fabric.stuck[h] = 1;
    return this.record('interface-stuck', `${this.nodeNames[node]}/${ifname} hung: up, passing nothing`, [node], ifname);
  }

  /** Interface admin state (ip link set up/down). Taking it down clears a radio hang. */
  setInterfaceUp(node: number, ifname: string, up: boolean): WorldEvent | null {
    const f = this.fabric;
    const h = f.iface(node, ifname);
    if (typeof up !== 'boolean') throw new SimulatorError('INVALID', 'up must be a boolean');
    if ((f.adminUp[h] === 1) === up) return null;
    if (up) {
      f.adminUp[h] = 1;
      this.engine.interfaceUp(h);
    } else {
      f.adminUp[h] = 0;
      f.stuck[h] = 0;
      this.engine.interfaceDown(h);
    }
    return this.record(up ? 'interface-up' : 'interface-down', `${this.nodeNames[node]}/${ifname} ${up ? 'up' : 'down'}`, [node], ifname);
  }

  /** What an nftables quarantine does: drop every batman-adv frame from `mac` arriving on node/ifname. */
  blockNeighbour(node: number, ifname: string, mac: string): WorldEvent {
    const h = this.fabric.iface(node, ifname);
    const m = normaliseMac(mac);
    if (m === null) throw new SimulatorError('INVALID', `not a MAC address: ${String(mac)}`);
    const set = this.fabric.blockedMacs.get(h) ?? new Set<string>();
    set.add(m);
    this.fabric.blockedMacs.set(h, set);
    this.fabric.refreshBlocked(h);
    return this.record('neighbour-blocked', `${this.nodeNames[node]}/${ifname} drops frames from ${this.describeMac(m)}`, [node], ifname);
  }

  /** What an nftables steering does: drop `pct` % of the OGMs from `mac` arriving on node/ifname (0 ends it). */
  steerNeighbour(node: number, ifname: string, mac: string, pct: number): WorldEvent {
    const h = this.fabric.iface(node, ifname);
    const m = normaliseMac(mac);
    if (m === null) throw new SimulatorError('INVALID', `not a MAC address: ${String(mac)}`);
    if (!(Number.isInteger(pct) && pct >= 0 && pct < 100)) throw new SimulatorError('INVALID', `steering share must be 0..99 %, got ${String(pct)}`);
    const map = this.fabric.steeredMacs.get(h) ?? new Map<string, number>();
    if (pct === 0) map.delete(m);
    else map.set(m, pct);
    this.fabric.steeredMacs.set(h, map);
    this.fabric.refreshBlocked(h);
    return this.record(pct ? 'neighbour-blocked' : 'neighbour-unblocked', `${this.nodeNames[node]}/${ifname} drops ${pct} % of the OGMs from ${this.describeMac(m)}`, [node], ifname);
  }

  unblockNeighbour(node: number, ifname: string, mac: string): WorldEvent {
    const h = this.fabric.iface(node, ifname);
    const m = normaliseMac(mac);
    if (m === null) throw new SimulatorError('INVALID', `not a MAC address: ${String(mac)}`);
    this.fabric.blockedMacs.get(h)?.delete(m);
    this.fabric.refreshBlocked(h);
    return this.record('neighbour-unblocked', `${this.nodeNames[node]}/${ifname} accepts frames from ${this.describeMac(m)} again`, [node], ifname);
  }

  // ---- what each node's kernel answers ------------------------------------------------------

  /** A MeshDriver seeing the mesh as node `node` does. */
  driver(node: number): SimulatedMeshDriver {
    this.fabric.checkNode(node);
    return new SimulatedMeshDriver(this, node);
  }

  private requirePrimary(node: number): number {
    const p = this.engine.primary[node]!;
    if (p < 0) throw new MeshError('NO_PRIMARY', `${this.nodeNames[node]}: no active primary interface`, -2);
    return p;
  }

  meshInfoOf(node: number): MeshInfo {
    this.fabric.checkNode(node);
    const f = this.fabric;
    const p = this.engine.primary[node]!;
    return {
      meshIfname: MESH_IFNAME,
      meshIfindex: f.meshIfindex(),
      meshAddress: f.meshMacs[node]!,
      algo: this.algo,
      version: SIM_VERSION,
      ...(p >= 0 ? { primaryIfname: f.ifnames[p % f.K]! } : {}),
    };
  }

  settingsOf(node: number): MeshSettings {
    this.fabric.checkNode(node);
    return { ...this.settingsByNode[node]! };
  }

  interfacesOf(node: number): HardInterface[] {
    this.fabric.checkNode(node);
    const f = this.fabric;
    const out: HardInterface[] = [];
    for (let k = 0; k < f.K; k++) {
      const h = node * f.K + k;
      out.push({ ifname: f.ifnames[k]!, ifindex: f.ifindexOf(h), address: f.macs[h]!, active: f.adminUp[h] === 1, hopPenalty: f.ifHopPenalty[h]! });
    }
    return out;
  }

  originatorsOf(node: number): Originator[] {
    this.fabric.checkNode(node);
    this.requirePrimary(node);
    const f = this.fabric;
    const e = this.engine;
    const H = f.H;
    const out: Originator[] = [];
    for (let o = 0; o < H; o++) {
      const ro = node * H + o;
      if (!e.origExists(ro)) continue;
      const router = e.origRouter(ro);
      // The kernel skips an originator whose best router has TQ 0.
      if (router < 0 || e.entryTq(e.entry(router, o)) === 0) continue;
      const lastSeenMs = Math.max(0, Math.floor(this.time - e.origLastSeen(ro)));
      for (let i = f.nodeInStart[node]!, end = f.nodeInStart[node + 1]!; i < end; i++) {
        const d = f.nodeInList[i]!;
        const ent = e.entry(d, o);
        if (!e.entryPresent(ent)) continue;
        const J = f.dRecv[d]!;
        out.push({
          originator: f.macs[o]!,
          nextHop: f.macs[f.dSend[d]!]!,
          hardIfname: f.ifnames[J % f.K]!,
          hardIfindex: f.ifindexOf(J),
          lastSeenMs,
          best: d === router,
          tq: e.entryTq(ent),
        });
      }
    }
    return out;
  }

  neighboursOf(node: number): Neighbour[] {
    this.fabric.checkNode(node);
    this.requirePrimary(node);
    const f = this.fabric;
    const e = this.engine;
    const out: Neighbour[] = [];
    for (let i = f.nodeInStart[node]!, end = f.nodeInStart[node + 1]!; i < end; i++) {
      const d = f.nodeInList[i]!;
      if (e.neighRef[d]! <= 0) continue;
      const J = f.dRecv[d]!;
      out.push({
        neighbour: f.macs[f.dSend[d]!]!,
        hardIfname: f.ifnames[J % f.K]!,
        hardIfindex: f.ifindexOf(J),
        lastSeenMs: Math.max(0, Math.floor(this.time - e.neighLastSeen[d]!)),
      });
    }
    return out;
  }

  gatewaysOf(node: number): Gateway[] {
    this.fabric.checkNode(node);
    this.requirePrimary(node);
    const f = this.fabric;
    const e = this.engine;
    const H = f.H;
    const out: Gateway[] = [];
    for (let o = 0; o < H; o++) {
      const ro = node * H + o;
      if (!e.origExists(ro) || e.gwDown(ro) === 0) continue;
      const router = e.origRouter(ro);
      if (router < 0) continue;
      const J = f.dRecv[router]!;
      out.push({
        originator: f.macs[o]!,
        router: f.macs[f.dSend[router]!]!,
        hardIfname: f.ifnames[J % f.K]!,
        hardIfindex: f.ifindexOf(J),
        best: e.selectedGw[node] === o,
        bandwidthDownKbps: e.gwDown(ro) * 100,
        bandwidthUpKbps: e.gwUp(ro) * 100,
        tq: e.entryTq(e.entry(router, o)),
      });
    }
    return out;
  }

  /** SET_MESH: validate, apply with the kernel's clamping, multicast the result to every listener of the node. */
  setMeshOf(node: number, changes: Partial<MeshSettings>): MeshSettings {
    this.fabric.checkNode(node);
    const next = applyMeshChanges(this.settingsByNode[node]!, changes, this.algo);
    this.settingsByNode[node] = next;
    this.engine.nodeHopPenalty[node] = next.hopPenalty;
    this.notifySettings(node);
    return { ...next };
  }

  /** SET_HARDIF on the node's interface `ifname`; unknown names are NO_DEVICE like an unknown ifindex. */
  setHardIfOf(node: number, ifname: string, changes: Partial<HardIfSettings>): HardInterface {
    this.fabric.checkNode(node);
    const f = this.fabric;
    const k = f.ifnames.indexOf(ifname);
    if (k < 0) throw new MeshError('NO_DEVICE', `${this.nodeNames[node]}: no hard interface '${String(ifname)}' in ${MESH_IFNAME}`, -19);
    const h = node * f.K + k;
    const next = applyHardIfChanges(
      { hopPenalty: f.ifHopPenalty[h]!, elpIntervalMs: f.ifElpIntervalMs[h]!, throughputOverrideUnits: f.ifThroughputOverride[h]! },
      changes,
    );
    f.ifHopPenalty[h] = next.hopPenalty;
    f.ifElpIntervalMs[h] = next.elpIntervalMs;
    f.ifThroughputOverride[h] = next.throughputOverrideUnits;
    this.notifySettings(node);
    return this.interfacesOf(node)[k]!;
  }

  /** @internal the kernel's config multicast, delivered after the current call returns. */
  subscribeSettings(node: number, listener: (s: MeshSettings) => void): () => void {
    const set = this.settingsListeners[node]!;
    set.add(listener);
    return () => set.delete(listener);
  }

  private notifySettings(node: number): void {
    const snapshot = { ...this.settingsByNode[node]! };
    for (const l of [...this.settingsListeners[node]!]) {
      queueMicrotask(() => {
        if (this.settingsListeners[node]!.has(l)) l({ ...snapshot });
      });
    }
  }
}
