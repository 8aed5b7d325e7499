// The simulator's public surface: the world, its driver, the link model and the helpers.
export { SimulatedMesh } from './world.ts';
export type { SimulatedMeshOptions, WorldEvent, WorldEventKind, LinkInfo, InterfaceState } from './world.ts';
export { SimulatedMeshDriver } from './sim-driver.ts';
export {
  DEFAULT_LINK_MODEL,
  IDEAL_LINK_MODEL,
  describeLinkModel,
  type LinkModelParams,
  type LinkModelDescription,
  type LinkHealth,
} from './link-model.ts';
export { DEFAULT_INTERFACES, type InterfaceSpec, type InterfaceCounters } from './fabric.ts';
export type { TopologyKind, TopologySpec, ExplicitLink } from './topology.ts';
export { runRealtime, type RealtimeOptions, type RealtimeRun } from './realtime.ts';
export { SimulatorError, type SimulatorErrorCode } from './errors.ts';
export { Prng } from './prng.ts';
export { TQ_MAX, LOCAL_WINDOW, GLOBAL_WINDOW, PURGE_TIMEOUT_MS, JITTER_MS } from './batman-iv.ts';
