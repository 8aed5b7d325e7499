export declare const PKG_RELEASE: number;
export declare const BRIDGE_ARCHES: string[];
export declare class PackageError extends Error {}
export declare function packageVersion(root?: string): string;
export declare function sourceDateEpoch(env?: Record<string, string | undefined>): number;
export declare function controlText(fields: Record<string, string | number | undefined>, description: string): string;
export declare const POSTINST: string;
export declare const PRERM: string;
export interface BuiltIpk {
  path: string;
  size: number;
  installedSize: number;
}
export interface BuiltPackages {
  version: string;
  epoch: number;
  packages: [BuiltIpk, BuiltIpk];
  missing: string[];
  sizes: Record<string, number | null>;
}
export declare function buildPackages(opts?: {
  distDir?: string;
  outDir?: string;
  workDir?: string;
  epoch?: number;
  version?: string;
}): BuiltPackages;
