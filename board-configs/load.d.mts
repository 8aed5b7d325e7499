export interface MeshInterfaceProfile {
  ifname: string;
  kind: '802.11s' | 'ethernet';
  radio?: string;
  band?: '2g' | '5g' | '6g';
}

export interface BoardConfig {
  id: string;
  model: string;
  boardNames: string[];
  matchTarget?: boolean;
  openwrt: { target: string; arch: string };
  soc: string;
  nodeArch: 'arm64' | 'arm' | 'x64' | 'ia32' | 'mipsel' | null;
  ramMB: number;
  flashMB: number;
  flashType: string;
  runsAgent: boolean;
  cannotRunReason?: string;
  meshInterfaces: MeshInterfaceProfile[];
  /** flags: extra node/V8 flags the init script passes after the heap limits (docs/memory.md). */
  node: { maxOldSpaceMB: number; maxSemiSpaceMB: number; flags?: string[] } | null;
  defaults: Record<string, Record<string, string>>;
  notes: string;
}

export declare const BOARD_CONFIG_DIR: string;
export declare class BoardConfigError extends Error {}
export declare function validateBoardConfig(b: unknown, file?: string): BoardConfig;
export declare function loadBoardConfigs(dir?: string): BoardConfig[];
export declare function boardProfileTable(boards: BoardConfig[]): string;
export declare function boardDefaultsTable(boards: BoardConfig[]): string;
