// Rung 4: take a hard interface down and up again. Clears a hung radio, and makes batman-adv drop
// every neighbour it remembers on that interface (instead of waiting for their OGM windows to
// run dry). Down alone drops them at batman-adv's next purge (every second), so the interface
// stays down a little longer than that. On the real kernel a hard interface that is not the
// primary one is also taken out of the mesh and put back: batman-adv purges its neighbours at
// once then, up to a second sooner, which is most of what a dead link costs after the link
// echo found it. The primary interface is never taken out: its MAC is the node's originator
// address. Its revert brings the interface up (and back into the mesh): what an agent killed
// while the interface was down finds in the journal at its next start. A Wi-Fi interface is
// never taken down: it would leave its 802.11s mesh or ad-hoc network, which only the system's
// own tools (netifd, wpa_supplicant) join again; it is only taken out of the mesh and put back
// (its neighbours purged), and not at all when it is the primary one (wifi reload, rung 5, is
// the radio's restart).
import { ActionError, requireIfname, type HealAction, type RevertState } from './action.ts';
import { activeAgain, hardIfSettings, ipLink, reEnslavable, reEnslave, recordedMaster, restoreHardIf } from './re-enslave.ts';

export const DOWN_MS = 1500;

export const restartInterface: HealAction = {
  kind: 'restart-interface',
  rung: 4,
  disruptive: true,
  target: 'interface',
  temporary: false,
  describe: (t) => `restart interface ${t.ifname}`,
  async prepare(ctx, t): Promise<RevertState> {
    const ifname = requireIfname(t);
    const i = (await ctx.driver.interfaces()).find((x) => x.ifname === ifname);
    if (!i) throw new ActionError(`no hard interface ${ifname}`);
    if (!i.active) throw new ActionError(`${ifname} is down: not restarting what someone took down`);
    const master = await reEnslavable(ctx, ifname);
    if (!master && (await ctx.wireless?.(ifname))) throw new ActionError(`${ifname} is a Wi-Fi interface and the mesh's primary one: taking it down would leave its wireless mesh (wifi reload restarts radios)`);
    return master ? { up: true, master, ...(await hardIfSettings(ctx, ifname)) } : { up: true };
  },
  async apply(ctx, t) {
    const ifname = requireIfname(t);
    const master = await reEnslavable(ctx, ifname);
    if (await ctx.wireless?.(ifname)) {
      if (!master) throw new ActionError(`${ifname} is a Wi-Fi interface and the mesh's primary one: not taken down`);
      await reEnslave(ctx, ifname, master);
      return;
    }
    const saved = master ? await hardIfSettings(ctx, ifname) : null;
    if (master) await ipLink(ctx, ifname, 'nomaster');
    await ipLink(ctx, ifname, 'down');
    await ctx.sleep(DOWN_MS);
    await ipLink(ctx, ifname, 'up');
    if (master) await ipLink(ctx, ifname, 'master', master);
    if (saved) await restoreHardIf(ctx, ifname, saved);
  },
  check: (ctx, t) => activeAgain(ctx, requireIfname(t)),
  async revert(ctx, t, state) {
    const ifname = requireIfname(t);
    const master = recordedMaster(state);
    await ipLink(ctx, ifname, ...(master ? ['master', master] : []), 'up');
    if (master) await restoreHardIf(ctx, ifname, state);
  },
};
