export declare class MetaError extends Error {}
export declare function defineBlock(text: string, name: string): string | undefined;
export declare function ipkDepends(depends: string, extraDepends?: string): string;
export declare function apkDepends(depends: string, extraDepends?: string): string[];
export interface PackageMeta {
  maintainer: string;
  url: string;
  license: string;
  licenseFiles: string;
  section: string;
  userid?: string;
  depends: string;
  apkDepends: string[];
  postinstPkg?: string;
  postrm?: string;
}
export declare function agentMeta(): PackageMeta & { userid: string };
export declare function luciMeta(): PackageMeta;
