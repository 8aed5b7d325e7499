// LuciControl (test/luci/error-cases.ts) for the REAL LuCI runtime of test/router/: uhttpd +
// rpcd + luci-base + the installed packages in a namespace root, where `sh` runs a shell
// command inside that root. Run by test/router/luci-errors.test.ts.
//
// What each control does on a router, as rpcd and procd behave (rpcd main.c, plugin.c):
//  - stop/start: the package's init script through procd;
//  - breakPlugin: replace /usr/libexec/rpcd/luci.x0tta6bl4 (rpcd keeps the object: it runs the
//    file on each call and answers with the status of that run); 'hang' needs rpcd started with
//    a short `-t` (OpenWrt's /etc/config/rpcd sets 30 s, rpcd's own default is 120 s, both longer
//    than LuCI's 20 s rpc timeout, so LuCI's "XHR request timed out" would come first: also an
//    error box, but slowly). Seen in the real runtime: rpcd kills the silent hanging plugin at
//    `-t` and answers status 5 (NO_DATA, "No response"), not 7;
//  - removeObject: move the plugin away and SIGHUP rpcd, which re-executes itself keeping the
//    sessions, without the object (as opkg remove + /etc/init.d/rpcd reload would).
import type { LuciControl } from './error-cases.ts';

const PLUGIN = '/usr/libexec/rpcd/luci.x0tta6bl4';
const SAVED = '/tmp/luci.x0tta6bl4.saved';
const BROKEN = { silent: '#!/bin/sh\nexit 1\n', hang: '#!/bin/sh\nexec sleep 600\n' };

export function routerControl(opts: {
  viewUrl: string;
  settleMs: number;
  /** Runs a shell command inside the router root; rejects on a non-zero exit. */
  sh(cmd: string): Promise<void>;
  /** Resolves once the agent's status socket answers again. */
  agentReady(): Promise<void>;
}): LuciControl {
  const { sh } = opts;
  // rpcd re-executes itself on SIGHUP: wait until it serves sessions again and the object is
  // (or is no longer) there, so that the page meets the new state at its next poll.
  const reloadRpcd = (object: boolean) =>
    sh(`kill -HUP "$(pidof rpcd)" && i=0 && until ubus -t 1 list session >/dev/null 2>&1 && ${object ? '' : '! '}ubus -t 1 list luci.x0tta6bl4 >/dev/null 2>&1; do
	i=$((i+1)); [ $i -lt 150 ] || exit 1; sleep 0.2
done`);
  return {
    viewUrl: opts.viewUrl,
    settleMs: opts.settleMs,
    async stopAgent() {
      await sh('/etc/init.d/x0tta6bl4 stop');
    },
    async startAgent() {
      await sh('/etc/init.d/x0tta6bl4 start');
      await opts.agentReady();
    },
    async breakPlugin(mode) {
      await sh(`[ -e ${SAVED} ] || cp -p ${PLUGIN} ${SAVED}`);
      await sh(`printf '${BROKEN[mode].replace(/\n/g, '\\n')}' > ${PLUGIN}.new && chmod 755 ${PLUGIN}.new && mv ${PLUGIN}.new ${PLUGIN}`);
    },
    async restorePlugin() {
      await sh(`cp -p ${SAVED} ${PLUGIN}.new && mv ${PLUGIN}.new ${PLUGIN} && rm -f ${SAVED}`);
    },
    async removeObject() {
      await sh(`mv ${PLUGIN} ${SAVED}`);
      await reloadRpcd(false);
    },
    async restoreObject() {
      await sh(`mv ${SAVED} ${PLUGIN}`);
      await reloadRpcd(true);
    },
  };
}
