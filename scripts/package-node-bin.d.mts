export declare class NodeBinError extends Error {}
export declare function buildNodeBinApk(opts: { apk: string; node: string; version: string; arch: string; outDir: string; epoch?: number }): string;
