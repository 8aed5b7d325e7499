// Rung 1: enable bonding when route scoring finds two good paths over different interfaces, so
// that batman-adv spreads traffic over both instead of swinging between them.
import { ActionError, SupersededError, type HealAction } from './action.ts';

export const bonding: HealAction = {
  kind: 'bonding',
  rung: 1,
  disruptive: false,
  target: 'none',
  temporary: true,
  describe: () => 'enable bonding',
  async prepare(ctx) {
    if ((await ctx.driver.settings()).bonding) throw new ActionError('bonding already on');
    return { bonding: false };
  },
  async apply(ctx) {
    await ctx.driver.setMesh({ bonding: true });
  },
  async check(ctx) {
    return (await ctx.driver.settings()).bonding ? null : 'bonding reads back off';
  },
  async revert(ctx, _t, state) {
    if (!(await ctx.driver.settings()).bonding && state.bonding === false) return; // already off
    if (!(await ctx.driver.settings()).bonding) throw new SupersededError('bonding is off, switched by someone else since');
    const kept = await ctx.driver.setMesh({ bonding: Boolean(state.bonding) });
    if (kept.bonding !== Boolean(state.bonding)) throw new ActionError('bonding did not read back as restored');
  },
};
