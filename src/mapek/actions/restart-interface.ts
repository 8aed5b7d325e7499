// Rung 4: take a hard interface down and up again. Clears a hung radio, and makes batman-adv drop
// every neighbour it remembers on that interface at once (instead of waiting for their OGM
// windows to run dry). It stays down a little over one batman-adv purge period (1 s), which is
// what drops the neighbours. Its revert brings the interface up: what an agent killed while the
// interface was down finds in the journal at its next start.
import { describeFailure } from '../command-runner.ts';
import { ActionError, requireIfname, type HealAction } from './action.ts';

export const DOWN_MS = 1500;

export const restartInterface: HealAction = {
  kind: 'restart-interface',
  rung: 4,
  disruptive: true,
  target: 'interface',
  temporary: false,
  describe: (t) => `restart interface ${t.ifname}`,
  async prepare(ctx, t) {
    const ifname = requireIfname(t);
    const i = (await ctx.driver.interfaces()).find((x) => x.ifname === ifname);
    if (!i) throw new ActionError(`no hard interface ${ifname}`);
    if (!i.active) throw new ActionError(`${ifname} is down: not restarting what someone took down`);
    return { up: true };
  },
  async apply(ctx, t) {
    const ifname = requireIfname(t);
    for (const state of ['down', 'up']) {
      const argv = ['ip', 'link', 'set', 'dev', ifname, state];
      const r = await ctx.run(argv);
      if (r.code !== 0) throw new ActionError(describeFailure(argv, r));
      if (state === 'down') await ctx.sleep(DOWN_MS);
    }
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
  async revert(ctx, t) {
    const argv = ['ip', 'link', 'set', 'dev', requireIfname(t), 'up'];
    const r = await ctx.run(argv);
    if (r.code !== 0) throw new ActionError(describeFailure(argv, r));
  },
};
