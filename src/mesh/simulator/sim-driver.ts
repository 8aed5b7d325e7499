// The MeshDriver of one simulated node: the same contract as the batman-adv driver, answered
// from the world's tables at the current virtual time.
import {
  MeshError,
  type Gateway,
  type HardIfSettings,
  type HardInterface,
  type MeshDriver,
  type MeshInfo,
  type MeshSettings,
  type Neighbour,
  type Originator,
} from '../driver.ts';

/**
 * What a node's driver asks of the simulated world (SimulatedMesh answers it). Declared here,
 * not imported from world.ts, because the world creates the drivers: the import would be a cycle.
 */
export interface SimulatedTables {
  meshInfoOf(node: number): MeshInfo;
  settingsOf(node: number): MeshSettings;
  interfacesOf(node: number): HardInterface[];
  originatorsOf(node: number): Originator[];
  neighboursOf(node: number): Neighbour[];
  gatewaysOf(node: number): Gateway[];
  setMeshOf(node: number, changes: Partial<MeshSettings>): MeshSettings;
  setHardIfOf(node: number, ifname: string, changes: Partial<HardIfSettings>): HardInterface;
  subscribeSettings(node: number, listener: (s: MeshSettings) => void): () => void;
}

export class SimulatedMeshDriver implements MeshDriver {
  readonly kind = 'simulator' as const;
  private closed = false;
  private readonly unsubscribers = new Set<() => void>();

  constructor(
    private readonly world: SimulatedTables,
    readonly node: number,
  ) {}

  private run<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new MeshError('TRANSPORT', 'driver closed'));
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  mesh(): Promise<MeshInfo> {
    return this.run(() => this.world.meshInfoOf(this.node));
  }

  settings(): Promise<MeshSettings> {
    return this.run(() => this.world.settingsOf(this.node));
  }

  interfaces(): Promise<HardInterface[]> {
    return this.run(() => this.world.interfacesOf(this.node));
  }

  originators(): Promise<Originator[]> {
    return this.run(() => this.world.originatorsOf(this.node));
  }

  neighbours(): Promise<Neighbour[]> {
    return this.run(() => this.world.neighboursOf(this.node));
  }

  gateways(): Promise<Gateway[]> {
    return this.run(() => this.world.gatewaysOf(this.node));
  }

  setMesh(changes: Partial<MeshSettings>): Promise<MeshSettings> {
    return this.run(() => this.world.setMeshOf(this.node, changes));
  }

  setHardIf(ifname: string, changes: Partial<HardIfSettings>): Promise<HardInterface> {
    return this.run(() => this.world.setHardIfOf(this.node, ifname, changes));
  }

  onSettingsChanged(listener: (settings: MeshSettings) => void): () => void {
    if (this.closed) return () => {};
    const off = this.world.subscribeSettings(this.node, listener);
    const unsubscribe = () => {
      off();
      this.unsubscribers.delete(unsubscribe);
    };
    this.unsubscribers.add(unsubscribe);
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const u of [...this.unsubscribers]) u();
  }
}
