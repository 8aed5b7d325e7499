// The MeshDriver for the real kernel: batman-adv over generic netlink (BatadvClient), with
// the mesh interface found by name over rtnetlink (batman-adv's requests take an ifindex).
// Everything it returns is in the model's units; everything that fails is a MeshError.
import type { BatadvClient } from '../../netlink/batadv-client.ts';
import type { BatadvReply } from '../../netlink/batadv-protocol.ts';
import { NetlinkKernelError } from '../../netlink/errors.ts';
import { Errno } from '../../netlink/errno.ts';
import type { RtnetlinkClient } from '../../netlink/rtnetlink.ts';
import {
  MeshError,
  type Gateway,
  type HardIfSettings,
  type HardInterface,
  type MeshDriver,
  type MeshErrorCode,
  type MeshInfo,
  type MeshSettings,
  type Neighbour,
  type Originator,
  type RoutingAlgo,
} from '../driver.ts';
import { toHardifChanges, toMeshChanges } from './from-model.ts';
import { toMeshError } from './mesh-errors.ts';
import { toGateway, toHardInterface, toMeshInfo, toMeshSettings, toNeighbour, toOriginator, toRoutingAlgo } from './to-model.ts';

export interface BatmanDriverOptions {
  /** The batadv interface, e.g. "bat0". */
  meshIfname: string;
  batadv: BatadvClient;
  links: RtnetlinkClient;
  /** Closes what the driver was opened over (the bridge transports). */
  closeTransports?: () => Promise<void>;
  /** Failures nobody awaits (joining the `config` group for onSettingsChanged). */
  onBackgroundError?: (err: MeshError) => void;
}

interface MeshRef {
  ifindex: number;
  algo: RoutingAlgo;
}

/** Codes after which a cached mesh ifindex may be stale (bat0 deleted and re-created). */
const STALE_MESH_CODES: readonly MeshErrorCode[] = ['NO_DEVICE', 'NO_MESH', 'INVALID'];

export class BatmanDriver implements MeshDriver {
  readonly kind = 'batman-adv' as const;
  readonly meshIfname: string;
  readonly batadv: BatadvClient;
  readonly links: RtnetlinkClient;
  private ref: MeshRef | undefined;
  private closed = false;

  constructor(private readonly opts: BatmanDriverOptions) {
    this.meshIfname = opts.meshIfname;
    this.batadv = opts.batadv;
    this.links = opts.links;
  }

  async mesh(): Promise<MeshInfo> {
    return this.onMesh('mesh info', undefined, async (m) => toMeshInfo(await this.batadv.getMesh(m.ifindex)));
  }

  async settings(): Promise<MeshSettings> {
    return this.onMesh('settings', undefined, async (m) => toMeshSettings(await this.batadv.getMesh(m.ifindex)));
  }

  async interfaces(): Promise<HardInterface[]> {
    return this.onMesh('interfaces', undefined, async (m) => (await this.batadv.getHardifs(m.ifindex)).map((r) => toHardInterface(r, m.algo)));
  }

  async originators(): Promise<Originator[]> {
    return this.onMesh('originators', 'NO_PRIMARY', async (m) => {
      const rows = await this.batadv.getOriginators(m.ifindex);
      const names = rows.some((r) => r.hardIfname === undefined) ? await this.ifnames(m) : new Map<number, string>();
      return rows.map((r) => toOriginator(r, names));
    });
  }

  async neighbours(): Promise<Neighbour[]> {
    return this.onMesh('neighbours', 'NO_PRIMARY', async (m) => {
      const rows = await this.batadv.getNeighbours(m.ifindex);
      const names = rows.some((r) => r.hardIfname === undefined) ? await this.ifnames(m) : new Map<number, string>();
      return rows.map((r) => toNeighbour(r, names));
    });
  }

  async gateways(): Promise<Gateway[]> {
    return this.onMesh('gateways', 'NO_PRIMARY', async (m) => {
      const rows = await this.batadv.getGateways(m.ifindex);
      const indexes = new Map<string, number>();
      if (rows.some((r) => r.hardIfindex === undefined)) for (const [i, n] of await this.ifnames(m)) indexes.set(n, i);
      return rows.map((r) => toGateway(r, indexes));
    });
  }

  async setMesh(changes: Partial<MeshSettings>): Promise<MeshSettings> {
    const attrs = toMeshChanges(changes);
    return this.onMesh('set mesh settings', undefined, async (m) => toMeshSettings(await this.batadv.setMesh(m.ifindex, attrs)));
  }

  async setHardIf(ifname: string, changes: Partial<HardIfSettings>): Promise<HardInterface> {
    const attrs = toHardifChanges(changes);
    return this.onMesh(`set ${ifname} settings`, undefined, async (m) => {
      const hard = (await this.batadv.getHardifs(m.ifindex)).find((h) => h.hardIfname === ifname);
      if (!hard) throw new MeshError('NO_DEVICE', `${ifname} is not a hard interface of ${this.meshIfname}`);
      return toHardInterface(await this.batadv.setHardif(m.ifindex, hard.hardIfindex, attrs), m.algo);
    });
  }

  onSettingsChanged(listener: (settings: MeshSettings) => void): () => void {
    let off: (() => void) | undefined;
    let cancelled = false;
    this.batadv
      .onConfig((e) => {
        if (e.kind !== 'mesh' || e.attrs.meshIfname !== this.meshIfname) return;
        listener(toMeshSettings(e.attrs as BatadvReply<'mesh'>));
      })
      .then(
        (unsubscribe) => (cancelled ? unsubscribe() : (off = unsubscribe)),
        (e) => this.opts.onBackgroundError?.(toMeshError(e, { what: `settings events of ${this.meshIfname}` })),
      );
    return () => {
      cancelled = true;
      off?.();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.batadv.close();
    this.links.requester.close();
    await this.opts.closeTransports?.();
  }

  /** The mesh interface's ifindex and algorithm; NO_MESH when the name is missing or not batadv. */
  private async resolveMesh(): Promise<MeshRef> {
    const what = `mesh interface ${this.meshIfname}`;
    let link;
    try {
      link = await this.links.getLink(this.meshIfname);
    } catch (e) {
      if (e instanceof NetlinkKernelError && e.errno === Errno.ENODEV) throw new MeshError('NO_MESH', `${what}: no such interface`, e.errno);
      throw toMeshError(e, { what });
    }
    if (link.kind !== 'batadv') throw new MeshError('NO_MESH', `${what}: is a ${link.kind ?? 'plain'} interface, not batadv`);
    let mesh;
    try {
      mesh = await this.batadv.getMesh(link.ifindex);
    } catch (e) {
      throw toMeshError(e, { what });
    }
    return { ifindex: link.ifindex, algo: toRoutingAlgo(mesh.algoName) };
  }

  /**
   * Runs `fn` against the mesh, resolving it first if needed. A cached ifindex that fails as if
   * the interface were gone is resolved again once (bat0 may have been re-created).
   */
  private async onMesh<T>(what: string, enoent: MeshErrorCode | undefined, fn: (m: MeshRef) => Promise<T>): Promise<T> {
    if (this.closed) throw new MeshError('TRANSPORT', `${what} of ${this.meshIfname}: driver closed`);
    const ctx = { what: `${what} of ${this.meshIfname}`, ...(enoent ? { enoent } : {}) };
    const cached = this.ref;
    try {
      this.ref ??= await this.resolveMesh();
      return await fn(this.ref);
    } catch (e) {
      const err = toMeshError(e, ctx);
      if (!cached || !STALE_MESH_CODES.includes(err.code)) throw err;
      this.ref = undefined;
    }
    try {
      this.ref = await this.resolveMesh();
      return await fn(this.ref);
    } catch (e) {
      throw toMeshError(e, ctx);
    }
  }

  private async ifnames(m: MeshRef): Promise<Map<number, string>> {
    return new Map((await this.batadv.getHardifs(m.ifindex)).map((h) => [h.hardIfindex, h.hardIfname]));
  }
}
