// Rung 1: lower orig_interval during a bad spell, so that this node's OGMs (and with them every
// other node's view of its routes) refresh faster; restored after the hold time. batman-adv
// clamps the value at 40 ms and drops invalid ones silently: the check reads it back.
import { ActionError, SupersededError, type HealAction } from './action.ts';

export const FAST_ORIG_INTERVAL_MS = 250;

export const origInterval: HealAction = {
  kind: 'orig-interval',
  rung: 1,
  disruptive: false,
  temporary: true,
  describe: () => `lower orig_interval to ${FAST_ORIG_INTERVAL_MS} ms`,
  async prepare(ctx) {
    const before = (await ctx.driver.settings()).origIntervalMs;
    if (before <= FAST_ORIG_INTERVAL_MS) throw new ActionError(`orig_interval already ${before} ms`);
    return { origIntervalMs: Math.max(before, ctx.baseline.origIntervalMs), set: FAST_ORIG_INTERVAL_MS };
  },
  async apply(ctx) {
    await ctx.driver.setMesh({ origIntervalMs: FAST_ORIG_INTERVAL_MS });
  },
  async check(ctx) {
    const now = (await ctx.driver.settings()).origIntervalMs;
    return now <= FAST_ORIG_INTERVAL_MS ? null : `orig_interval reads back ${now} ms`;
  },
  async revert(ctx, _t, state) {
    const ms = Number(state.origIntervalMs);
    const now = (await ctx.driver.settings()).origIntervalMs;
    if (now !== Number(state.set ?? FAST_ORIG_INTERVAL_MS) && now !== ms) throw new SupersededError(`orig_interval is ${now} ms, set by someone else since`);
    const kept = await ctx.driver.setMesh({ origIntervalMs: ms });
    if (kept.origIntervalMs !== ms) throw new ActionError(`orig_interval reads back ${kept.origIntervalMs} ms, not ${ms}`);
  },
};
