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
  /**
   * The batadv client, or how to open one. Opening resolves the batadv family, which fails
   * while batman-adv is not loaded; the driver then answers NO_MODULE and tries again on the
   * next call, so an agent started before `modprobe batman-adv` recovers by itself.
   */
  batadv: BatadvClient | (() => Promise<BatadvClient>);
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
  readonly links: RtnetlinkClient;
  private batadvClient: BatadvClient | undefined;
  private opening: Promise<BatadvClient> | undefined;
  private ref: MeshRef | undefined;
  private closed = false;
  private readonly settingsListeners = new Set<(settings: MeshSettings) => void>();
  private configSubscribed = false;

  constructor(private readonly opts: BatmanDriverOptions) {
    this.meshIfname = opts.meshIfname;
    if (typeof opts.batadv !== 'function') this.batadvClient = opts.batadv;
    this.links = opts.links;
  }

  /** The batadv client, opening it (resolving the family) if that has not succeeded yet. */
  async client(what = 'batman-adv netlink family'): Promise<BatadvClient> {
    if (this.batadvClient) return this.batadvClient;
    const open = this.opts.batadv as () => Promise<BatadvClient>;
    this.opening ??= open().finally(() => (this.opening = undefined));
    try {
      this.batadvClient = await this.opening;
    } catch (e) {
      throw toMeshError(e, { what, enoent: 'NO_MODULE' });
    }
    if (this.closed) this.batadvClient.close();
    else this.subscribeConfig();
    return this.batadvClient;
  }

  async mesh(): Promise<MeshInfo> {
    return this.onMesh('mesh info', undefined, async (m, b) => toMeshInfo(await b.getMesh(m.ifindex)));
  }

  async settings(): Promise<MeshSettings> {
    return this.onMesh('settings', undefined, async (m, b) => toMeshSettings(await b.getMesh(m.ifindex)));
  }

  async interfaces(): Promise<HardInterface[]> {
    return this.onMesh('interfaces', undefined, async (m, b) => (await b.getHardifs(m.ifindex)).map((r) => toHardInterface(r, m.algo)));
  }

  async originators(): Promise<Originator[]> {
    return this.onMesh('originators', 'NO_PRIMARY', async (m, b) => {
      const rows = await b.getOriginators(m.ifindex);
      const names = rows.some((r) => r.hardIfname === undefined) ? await ifnames(b, m) : new Map<number, string>();
      return rows.map((r) => toOriginator(r, names));
    });
  }

  async neighbours(): Promise<Neighbour[]> {
    return this.onMesh('neighbours', 'NO_PRIMARY', async (m, b) => {
      const rows = await b.getNeighbours(m.ifindex);
      const names = rows.some((r) => r.hardIfname === undefined) ? await ifnames(b, m) : new Map<number, string>();
      return rows.map((r) => toNeighbour(r, names));
    });
  }

  async gateways(): Promise<Gateway[]> {
    return this.onMesh('gateways', 'NO_PRIMARY', async (m, b) => {
      const rows = await b.getGateways(m.ifindex);
      const indexes = new Map<string, number>();
      if (rows.some((r) => r.hardIfindex === undefined)) for (const [i, n] of await ifnames(b, m)) indexes.set(n, i);
      return rows.map((r) => toGateway(r, indexes));
    });
  }

  async setMesh(changes: Partial<MeshSettings>): Promise<MeshSettings> {
    const attrs = toMeshChanges(changes);
    return this.onMesh('set mesh settings', undefined, async (m, b) => toMeshSettings(await b.setMesh(m.ifindex, attrs)));
  }

  async setHardIf(ifname: string, changes: Partial<HardIfSettings>): Promise<HardInterface> {
    const attrs = toHardifChanges(changes);
    return this.onMesh(`set ${ifname} settings`, undefined, async (m, b) => {
      const hard = (await b.getHardifs(m.ifindex)).find((h) => h.hardIfname === ifname);
      if (!hard) throw new MeshError('NO_DEVICE', `${ifname} is not a hard interface of ${this.meshIfname}`);
      return toHardInterface(await b.setHardif(m.ifindex, hard.hardIfindex, attrs), m.algo);
    });
  }

  onSettingsChanged(listener: (settings: MeshSettings) => void): () => void {
    this.settingsListeners.add(listener);
    this.subscribeConfig();
    return () => this.settingsListeners.delete(listener);
  }

  /**
   * One `config` subscription for all settings listeners. If it cannot be made yet (module
   * not loaded, join refused) it is retried when the batadv client next opens.
   */
  private subscribeConfig(): void {
    if (this.configSubscribed || this.settingsListeners.size === 0 || this.closed) return;
    this.configSubscribed = true;
    this.client()
      .then((b) =>
        b.onConfig((e) => {
          if (e.kind !== 'mesh' || e.attrs.meshIfname !== this.meshIfname) return;
          const settings = toMeshSettings(e.attrs as BatadvReply<'mesh'>);
          for (const l of this.settingsListeners) l(settings);
        }),
      )
      .catch((e) => {
        this.configSubscribed = false;
        this.opts.onBackgroundError?.(toMeshError(e, { what: `settings events of ${this.meshIfname}` }));
      });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.batadvClient?.close();
    this.links.requester.close();
    await this.opts.closeTransports?.();
  }

  /** The mesh interface's ifindex and algorithm; NO_MESH when the name is missing or not batadv. */
  private async resolveMesh(b: BatadvClient): Promise<MeshRef> {
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
      mesh = await b.getMesh(link.ifindex);
    } catch (e) {
      throw toMeshError(e, { what });
    }
    return { ifindex: link.ifindex, algo: toRoutingAlgo(mesh.algoName) };
  }

  /**
   * Runs `fn` against the mesh, resolving it first if needed. A cached ifindex that fails as if
   * the interface were gone is resolved again once (bat0 may have been re-created).
   */
  private async onMesh<T>(what: string, enoent: MeshErrorCode | undefined, fn: (m: MeshRef, b: BatadvClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new MeshError('TRANSPORT', `${what} of ${this.meshIfname}: driver closed`);
    const ctx = { what: `${what} of ${this.meshIfname}`, ...(enoent ? { enoent } : {}) };
    const b = await this.client(ctx.what);
    const cached = this.ref;
    try {
      this.ref ??= await this.resolveMesh(b);
      return await fn(this.ref, b);
    } catch (e) {
      const err = toMeshError(e, ctx);
      if (!cached || !STALE_MESH_CODES.includes(err.code)) throw err;
      this.ref = undefined;
    }
    try {
      this.ref = await this.resolveMesh(b);
      return await fn(this.ref, b);
    } catch (e) {
      throw toMeshError(e, ctx);
    }
  }
}

async function ifnames(b: BatadvClient, m: MeshRef): Promise<Map<number, string>> {
  return new Map((await b.getHardifs(m.ifindex)).map((h) => [h.hardIfindex, h.hardIfname]));
}
