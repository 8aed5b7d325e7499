// LuciControl (test/luci/error-cases.ts) for the preview: the real agent on the simulated
// mesh, the real rpcd plugin in the preview's rpcd stand-in, broken the way it could break on
// a router (replaced by a script that prints nothing or hangs; the ubus object unregistered).
import { chmodSync, copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { PLUGIN_FILE, type LuciPreview } from '../../scripts/luci-preview.mjs';
import type { LuciControl } from './error-cases.ts';
import type { RunningAgent } from './real-agent.ts';

const BROKEN = { silent: '#!/bin/sh\nexit 1\n', hang: '#!/bin/sh\nexec sleep 60\n' };

// Swapped in by rename, as opkg installs files: a running call keeps the old file.
function installPlugin(path: string, write: (tmp: string) => void): void {
  const tmp = path + '.new';
  write(tmp);
  chmodSync(tmp, 0o755);
  renameSync(tmp, path);
}

export function previewControl(
  preview: LuciPreview,
  agent: { current: RunningAgent; restart(): Promise<RunningAgent> },
  opts: { pollSeconds: number; execTimeoutMs: number },
): LuciControl {
  return {
    viewUrl: `${preview.url}?poll=${opts.pollSeconds}`,
    // Two polls, a plugin timeout, and room for a loaded 2-core machine.
    settleMs: 2 * opts.pollSeconds * 1000 + opts.execTimeoutMs + 15_000,
    async stopAgent() {
      await agent.current.stop();
    },
    async startAgent() {
      agent.current = await agent.restart();
    },
    async breakPlugin(mode) {
      installPlugin(preview.pluginPath, (tmp) => writeFileSync(tmp, BROKEN[mode]));
    },
    async restorePlugin() {
      installPlugin(preview.pluginPath, (tmp) => copyFileSync(PLUGIN_FILE, tmp));
    },
    async removeObject() {
      preview.setObjectRegistered(false);
    },
    async restoreObject() {
      preview.setObjectRegistered(true);
    },
  };
}
