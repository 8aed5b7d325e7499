export declare const VIEW_FILE: string;
export declare const PLUGIN_FILE: string;
export declare const ACL_FILE: string;
export declare const MENU_FILE: string;
export declare class LuciPreviewError extends Error {}
export declare function readAclGrants(aclFile?: string): Record<string, string[]>;
export interface PluginRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}
export declare function runPlugin(
  pluginPath: string,
  args: string[],
  opts?: { stdin?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<PluginRun>;
export interface LuciPreview {
  url: string;
  stats: { rpcCalls: number };
  methods: string[];
  close(): Promise<void>;
}
export declare function startLuciPreview(opts: { socketPath: string; port?: number; host?: string }): Promise<LuciPreview>;
