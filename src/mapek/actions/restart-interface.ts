// Rung 4: take a hard interface down and up again. Clears a hung radio, and makes batman-adv drop
// every neighbour it remembers on that interface (instead of waiting for their OGM windows to
// run dry). Down alone drops them at batman-adv's next purge (every second), so the interface
// stays down a little longer than that. On the real kernel a hard interface that is not the
// primary one is also taken out of the mesh and put back: batman-adv purges its neighbours at
// once then, up to a second sooner, which is most of what a dead link costs after the link
// echo found it. The primary interface is never taken out: its MAC is the node's originator
// address. Its revert brings the interface up (and back into the mesh): what an agent killed
// while the interface was down finds in the journal at its next start.
import { describeFailure } from '../command-runner.ts';
import { ActionError, requireIfname, type ActionContext, type HealAction, type RevertState } from './action.ts';

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
    const master = await reEnslaving(ctx, ifname);
    return master ? { up: true, master, hopPenalty: i.hopPenalty } : { up: true };
  },
  async apply(ctx, t) {
    const ifname = requireIfname(t);
    const master = await reEnslaving(ctx, ifname);
    const hopPenalty = master ? (await ctx.driver.interfaces()).find((x) => x.ifname === ifname)?.hopPenalty : undefined;
    const steps = master ? ['nomaster', 'down', 'up', 'master'] : ['down', 'up'];
    for (const step of steps) {
      const argv = ['ip', 'link', 'set', 'dev', ifname, ...(step === 'master' ? ['master', master!] : [step])];
      const r = await ctx.run(argv);
      if (r.code !== 0) throw new ActionError(describeFailure(argv, r));
      if (step === 'down') await ctx.sleep(DOWN_MS);
    }
    // A kernel that makes a new hard interface on enslaving (6.10 on) starts it at hop_penalty 0.
    if (hopPenalty !== undefined) await restoreHopPenalty(ctx, ifname, hopPenalty);
  },
  async check(ctx, t) {
    // batman-adv re-activates the hard interface from its netdev notifier: give it a moment.
    for (let i = 0; i < 10; i++) {
      const hardif = (await ctx.driver.interfaces()).find((x) => x.ifname === t.ifname);
      if (hardif?.active) return null;
      await ctx.sleep(300);
    }
    return `${t.ifname} is not active again`;
  },
  async revert(ctx, t, state) {
    const ifname = requireIfname(t);
    const master = typeof state.master === 'string' && IFNAME.test(state.master) ? state.master : null;
    const argv = ['ip', 'link', 'set', 'dev', ifname, ...(master ? ['master', master] : []), 'up'];
    const r = await ctx.run(argv);
    if (r.code !== 0) throw new ActionError(describeFailure(argv, r));
    if (master && Number.isInteger(state.hopPenalty)) await restoreHopPenalty(ctx, ifname, Number(state.hopPenalty));
  },
};

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** The mesh interface to take `ifname` out of and put back into, or null: simulator, primary interface, or unknown. */
async function reEnslaving(ctx: ActionContext, ifname: string): Promise<string | null> {
  if (ctx.driver.kind !== 'batman-adv') return null;
  const mesh = await ctx.driver.mesh();
  return mesh.primaryIfname !== undefined && mesh.primaryIfname !== ifname && IFNAME.test(mesh.meshIfname) ? mesh.meshIfname : null;
}

async function restoreHopPenalty(ctx: ActionContext, ifname: string, hopPenalty: number): Promise<void> {
  // batman-adv makes the hard interface active a moment after it is enslaved.
  for (let i = 0; i < 10; i++) {
    const now = (await ctx.driver.interfaces()).find((x) => x.ifname === ifname);
    if (now?.hopPenalty === hopPenalty) return;
    if (now) return void (await ctx.driver.setHardIf(ifname, { hopPenalty }));
    await ctx.sleep(100);
  }
}
