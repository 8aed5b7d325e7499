// Rung 3: make batman-adv forget every neighbour on a hard interface now, instead of after five
// missed OGMs of each originator: the answer to a link found dead (traffic stopped, the link echo
// unanswered) on an interface nobody else is heard on. The interface is taken out of the mesh
// and put back (re-enslave.ts), and never taken down: on a link dead one way only, the direction
// that still works keeps carrying frames, so the far end does not go deaf too and purge its own
// side (a down/up did that on the kernel bench: each end restarted in turn, 1.5–2.9 s lost where
// batman-adv alone lost 0.3–1 s). Only where re-enslaving is possible: the real kernel, and an
// interface that is not the primary one (its MAC is the node's originator address); the plan
// answers a dead link elsewhere with restart-interface, whose down/up purges too.
import { ActionError, requireIfname, type HealAction } from './action.ts';
import { activeAgain, hardIfSettings, ipLink, reEnslavable, reEnslave, recordedMaster, restoreHardIf } from './re-enslave.ts';

export const purgeNeighbours: HealAction = {
  kind: 'purge-neighbours',
  rung: 3,
  disruptive: false,
  target: 'interface',
  temporary: false,
  describe: (t) => `purge the neighbours on ${t.ifname}`,
  async prepare(ctx, t) {
    const ifname = requireIfname(t);
    const i = (await ctx.driver.interfaces()).find((x) => x.ifname === ifname);
    if (!i) throw new ActionError(`no hard interface ${ifname}`);
    if (!i.active) throw new ActionError(`${ifname} is down: nothing to purge`);
    const master = await reEnslavable(ctx, ifname);
    if (!master) throw new ActionError(`${ifname} cannot be taken out of the mesh and put back (the primary interface, or no batman-adv): restart-interface purges there`);
    return { master, ...(await hardIfSettings(ctx, ifname)) };
  },
  async apply(ctx, t) {
    const ifname = requireIfname(t);
    const master = await reEnslavable(ctx, ifname);
    if (!master) throw new ActionError(`${ifname} cannot be taken out of the mesh and put back`);
    await reEnslave(ctx, ifname, master);
  },
  check: (ctx, t) => activeAgain(ctx, requireIfname(t)),
  // What an agent killed between "out" and "back in" left: the interface out of the mesh.
  async revert(ctx, t, state) {
    const ifname = requireIfname(t);
    const master = recordedMaster(state);
    if (!master) return;
    await ipLink(ctx, ifname, 'master', master);
    await restoreHardIf(ctx, ifname, state);
  },
};
