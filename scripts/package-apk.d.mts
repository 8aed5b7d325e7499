import type { PackageMeta } from './package-meta.mjs';
export declare class ApkError extends Error {}
export declare function findApkTools(env?: Record<string, string | undefined>): { apk: string; version: string } | { apk: null; reason: string };
export declare function apkScripts(name: string, own?: { postinstPkg?: string; prermPkg?: string; postrm?: string }): Record<string, string>;
export declare function buildApk(opts: {
  apk: string;
  name: string;
  version: string;
  dataDir: string;
  meta: Pick<PackageMeta, 'license' | 'url' | 'maintainer' | 'apkDepends' | 'userid'>;
  description: string;
  conffiles?: string[];
  own?: { postinstPkg?: string; prermPkg?: string; postrm?: string };
  outDir: string;
  epoch: number;
  workDir: string;
}): { path: string; size: number };
export declare function apkIdRoot(dir: string): string;
