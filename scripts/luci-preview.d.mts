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
  spawnError?: string;
}
export declare function runPlugin(
  pluginPath: string,
  args: string[],
  opts?: { stdin?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<PluginRun>;
/** rpcd's answer to one plugin run: [status] or [0, reply]. */
export declare function pluginReply(run: PluginRun): [number] | [0, Record<string, unknown>];
export interface LuciPreview {
  url: string;
  stats: { rpcCalls: number };
  methods: string[];
  /** The installed copy of the rpcd plugin, which a test may replace. */
  pluginPath: string;
  /** false: the ubus object is gone, as after removing the plugin and reloading rpcd. */
  setObjectRegistered(on: boolean): void;
  close(): Promise<void>;
}
export declare function startLuciPreview(opts: {
  socketPath: string;
  port?: number;
  host?: string;
  /** rpcd's exec timeout (-t), default 120 s. */
  execTimeoutMs?: number;
  /** uhttpd's script timeout (-t), default 60 s. */
  scriptTimeoutMs?: number;
  /** Serve this file as the view instead of the package's (to run a check against another version). */
  viewFile?: string;
}): Promise<LuciPreview>;
