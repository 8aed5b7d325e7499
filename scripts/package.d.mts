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
export interface BuiltApk {
  path: string;
  size: number;
}
export interface BuiltPackages {
  version: string;
  epoch: number;
  packages: [BuiltIpk, BuiltIpk];
  /** The same two as apk v3 packages, when apk-tools 3 was found; else empty. */
  apks: BuiltApk[];
  /** Why no .apk was built, or null. */
  apkMissing: string | null;
  missing: string[];
  sizes: Record<string, number | null>;
}
export declare function buildPackages(opts?: {
  distDir?: string;
  outDir?: string;
  workDir?: string;
  epoch?: number;
  version?: string;
  apkTools?: { apk: string | null; reason?: string };
}): BuiltPackages;
