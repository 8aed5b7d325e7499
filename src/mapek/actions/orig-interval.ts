// Rung 1: lower orig_interval during a bad spell, so that this node's OGMs (and with them every
// other node's view of its routes) refresh faster; restored after the hold time. batman-adv
// clamps the value at 40 ms and drops invalid ones silently: the check reads it back.
import { ActionError, SupersededError, type HealAction } from './action.ts';

/**
 * Remote nodes leave a dead path after five of our OGMs have come the other way (batman-adv IV
 * averages the last five per neighbour, non-zero ones only); at 100 ms that is half a second.
 * The price is ten OGMs a second from this node, flooded mesh-wide, until 30 s after the spell
 * (execute.ts SPELL_QUIET_MS) or the hold: healing.fast_orig_interval sets it higher for large
 * meshes.
 */
export const DEFAULT_FAST_ORIG_INTERVAL_MS = 100;

export const origInterval: HealAction = {
  kind: 'orig-interval',
  rung: 1,
  disruptive: false,
  target: 'none',
  temporary: true,
  describe: () => 'lower orig_interval',
  async prepare(ctx) {
    const before = (await ctx.driver.settings()).origIntervalMs;
    if (before <= ctx.fastOrigIntervalMs) throw new ActionError(`orig_interval already ${before} ms`);
    return { origIntervalMs: Math.max(before, ctx.baseline.origIntervalMs), set: ctx.fastOrigIntervalMs };
  },
  async apply(ctx) {
    await ctx.driver.setMesh({ origIntervalMs: ctx.fastOrigIntervalMs });
  },
  async check(ctx) {
    const now = (await ctx.driver.settings()).origIntervalMs;
    return now <= ctx.fastOrigIntervalMs ? null : `orig_interval reads back ${now} ms`;
  },
  async revert(ctx, _t, state) {
    const ms = Number(state.origIntervalMs);
    const now = (await ctx.driver.settings()).origIntervalMs;
    if (now !== Number(state.set ?? ctx.fastOrigIntervalMs) && now !== ms) throw new SupersededError(`orig_interval is ${now} ms, set by someone else since`);
    const kept = await ctx.driver.setMesh({ origIntervalMs: ms });
    if (kept.origIntervalMs !== ms) throw new ActionError(`orig_interval reads back ${kept.origIntervalMs} ms, not ${ms}`);
  },
};
