// The batman-adv generic netlink client: every GET as a typed query, SET_MESH / SET_HARDIF /
// SET_VLAN followed by a read-back (the kernel drops invalid values silently, so only the
// read-back says what it kept), and the `config` multicast group. Values stay in the
// kernel's units here; src/mesh/batman/ normalises them for the agent.
import { decodeAttrs, encodeAttrs, requireAttrs } from './attr-schema.ts';
import {
  BATADV_ATTRS,
  BATADV_CMD_NAMES,
  BATADV_CONFIG_GROUP,
  BATADV_FAMILY,
  BATADV_GENL_VERSION,
  BATADV_QUERIES,
  BATADV_SETTABLE,
  BatadvCmd,
  type BatadvConfigEvent,
  type BatadvHardifChanges,
  type BatadvMeshChanges,
  type BatadvQueryName,
  type BatadvRecord,
  type BatadvReply,
  type BatadvVlanChanges,
} from './batadv-protocol.ts';
import { resolveFamily, type GenlFamily } from './controller.ts';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.ts';
import { decodeGenl, encodeGenlPayload } from './genl.ts';
import type { NetlinkMessage } from './nlmsg.ts';
import { NetlinkRequester, type DatagramLink, type RequesterOptions } from './requester.ts';

/** Decodes one batadv message: genl header, command check, attributes by the table. */
export function decodeBatadvMessage(msg: NetlinkMessage, familyId: number): { cmd: number; attrs: BatadvRecord } {
  if (msg.type !== familyId) throw new NetlinkDecodeError(`message type ${msg.type} is not the batadv family (${familyId})`, 4);
  const g = decodeGenl(msg);
  return { cmd: g.cmd, attrs: decodeAttrs(BATADV_ATTRS, g.attrs, 20) };
}

export class BatadvClient {
  private configListeners = new Set<(e: BatadvConfigEvent) => void>();
  private configJoin: Promise<void> | undefined;
  private offNotifications: (() => void) | undefined;

  constructor(
    readonly requester: NetlinkRequester,
    readonly family: GenlFamily,
  ) {}

  /** Resolves the batadv family over `link` (NetlinkKernelError ENOENT: batman-adv not loaded). */
  static async open(link: DatagramLink, opts: RequesterOptions = {}): Promise<BatadvClient> {
    const requester = new NetlinkRequester(link, opts);
    try {
      return new BatadvClient(requester, await resolveFamily(requester, BATADV_FAMILY));
    } catch (e) {
      requester.close();
      throw e;
    }
  }

  /** Runs one query from BATADV_QUERIES; every reply is checked for its required attributes. */
  async query<Q extends BatadvQueryName>(name: Q, attrs: BatadvRecord): Promise<BatadvReply<Q>[]> {
    const spec = BATADV_QUERIES[name];
    for (const k of spec.needs) if (attrs[k] === undefined) throw new NetlinkEncodeError(`${name}: request needs ${k}`);
    const what = BATADV_CMD_NAMES[spec.cmd]!;
    const payload = encodeGenlPayload(spec.cmd, BATADV_GENL_VERSION, encodeAttrs(BATADV_ATTRS, attrs).finish());
    const messages = spec.dump
      ? await this.requester.dump(this.family.id, payload, what)
      : await this.requester.request(this.family.id, payload, what);
    const out: BatadvReply<Q>[] = [];
    for (const m of messages) {
      const { cmd, attrs: rec } = decodeBatadvMessage(m, this.family.id);
      if (cmd !== spec.cmd) throw new NetlinkDecodeError(`${what}: reply has command ${BATADV_CMD_NAMES[cmd] ?? cmd}`, 16);
      out.push(requireAttrs(rec, spec.required, what) as BatadvReply<Q>);
    }
    if (!spec.dump && out.length !== 1) throw new NetlinkDecodeError(`${what}: ${out.length} replies, expected 1`, 0);
    return out;
  }

  async getMesh(meshIfindex: number): Promise<BatadvReply<'mesh'>> {
    return (await this.query('mesh', { meshIfindex }))[0]!;
  }
  getHardifs(meshIfindex: number): Promise<BatadvReply<'hardifs'>[]> {
    return this.query('hardifs', { meshIfindex });
  }
  async getHardif(meshIfindex: number, hardIfindex: number): Promise<BatadvReply<'hardif'>> {
    return (await this.query('hardif', { meshIfindex, hardIfindex }))[0]!;
  }
  /** One entry per (originator, next hop); `hardIfindex` limits it to one outgoing interface. */
  getOriginators(meshIfindex: number, hardIfindex?: number): Promise<BatadvReply<'originators'>[]> {
    return this.query('originators', { meshIfindex, hardIfindex });
  }
  getNeighbours(meshIfindex: number, hardIfindex?: number): Promise<BatadvReply<'neighbours'>[]> {
    return this.query('neighbours', { meshIfindex, hardIfindex });
  }
  getGateways(meshIfindex: number): Promise<BatadvReply<'gateways'>[]> {
    return this.query('gateways', { meshIfindex });
  }
  getTranstableLocal(meshIfindex: number): Promise<BatadvReply<'transtableLocal'>[]> {
    return this.query('transtableLocal', { meshIfindex });
  }
  getTranstableGlobal(meshIfindex: number): Promise<BatadvReply<'transtableGlobal'>[]> {
    return this.query('transtableGlobal', { meshIfindex });
  }
  getRoutingAlgos(): Promise<BatadvReply<'routingAlgos'>[]> {
    return this.query('routingAlgos', {});
  }
  async getVlan(meshIfindex: number, vid: number): Promise<BatadvReply<'vlan'>> {
    return (await this.query('vlan', { meshIfindex, vlanid: vid }))[0]!;
  }

  /** SET_MESH, then GET_MESH: resolves with what the kernel kept. */
  async setMesh(meshIfindex: number, changes: BatadvMeshChanges): Promise<BatadvReply<'mesh'>> {
    await this.set(BatadvCmd.SET_MESH, BATADV_SETTABLE.mesh, changes, { meshIfindex });
    return this.getMesh(meshIfindex);
  }
  async setHardif(meshIfindex: number, hardIfindex: number, changes: BatadvHardifChanges): Promise<BatadvReply<'hardif'>> {
    await this.set(BatadvCmd.SET_HARDIF, BATADV_SETTABLE.hardif, changes, { meshIfindex, hardIfindex });
    return this.getHardif(meshIfindex, hardIfindex);
  }
  async setVlan(meshIfindex: number, vid: number, changes: BatadvVlanChanges): Promise<BatadvReply<'vlan'>> {
    await this.set(BatadvCmd.SET_VLAN, BATADV_SETTABLE.vlan, changes, { meshIfindex, vlanid: vid });
    return this.getVlan(meshIfindex, vid);
  }

  private async set(cmd: number, allowed: readonly string[], changes: object, target: BatadvRecord): Promise<void> {
    const what = BATADV_CMD_NAMES[cmd]!;
    const given = Object.entries(changes).filter(([, v]) => v !== undefined);
    for (const [k] of given) if (!allowed.includes(k)) throw new NetlinkEncodeError(`${what} cannot set '${k}'`);
    if (given.length === 0) throw new NetlinkEncodeError(`${what}: nothing to set`);
    const attrs = encodeAttrs(BATADV_ATTRS, { ...target, ...Object.fromEntries(given) } as BatadvRecord).finish();
    await this.requester.request(this.family.id, encodeGenlPayload(cmd, BATADV_GENL_VERSION, attrs), what);
  }

  /**
   * Listens to the `config` multicast group (joined on first use): after every SET_* the
   * kernel sends the full settings of what changed, whoever changed it (batctl too).
   */
  async onConfig(listener: (e: BatadvConfigEvent) => void): Promise<() => void> {
    this.configListeners.add(listener);
    if (!this.offNotifications) this.offNotifications = this.requester.onNotification((m) => this.notify(m));
    if (!this.configJoin) {
      const group = this.family.groups.get(BATADV_CONFIG_GROUP);
      this.configJoin = group === undefined
        ? Promise.reject(new NetlinkDecodeError(`batadv family has no '${BATADV_CONFIG_GROUP}' multicast group`, 0))
        : this.requester.joinGroup(group);
      this.configJoin.catch(() => (this.configJoin = undefined));
    }
    try {
      await this.configJoin;
    } catch (e) {
      this.configListeners.delete(listener);
      throw e;
    }
    return () => this.configListeners.delete(listener);
  }

  private notify(m: NetlinkMessage): void {
    if (m.type !== this.family.id || this.configListeners.size === 0) return;
    const { cmd, attrs } = decodeBatadvMessage(m, this.family.id);
    const kind = cmd === BatadvCmd.SET_MESH ? 'mesh' : cmd === BatadvCmd.SET_HARDIF ? 'hardif' : cmd === BatadvCmd.SET_VLAN ? 'vlan' : undefined;
    if (!kind) return; // tpmeter results share the socket; not ours to report
    for (const l of this.configListeners) l({ kind, attrs });
  }

  close(): void {
    this.offNotifications?.();
    this.configListeners.clear();
    this.requester.close();
  }
}
