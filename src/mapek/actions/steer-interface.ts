// Rung 2: steer traffic off a failing interface by raising its hop penalty (BATMAN_IV), or by
// overriding its throughput estimate downwards (BATMAN_V): routes through other interfaces win
// as new OGMs arrive. Restored after the hold time.
import { ActionError, SupersededError, requireIfname, type HealAction, type RevertState } from './action.ts';

export const STEER_HOP_PENALTY = 200;
export const STEER_THROUGHPUT_KBPS = 1000;

export const steerInterface: HealAction = {
  kind: 'steer-interface',
  rung: 2,
  disruptive: false,
  target: 'interface',
  temporary: true,
  describe: (t) => `steer traffic off ${t.ifname}`,
  async prepare(ctx, t): Promise<RevertState> {
    const ifname = requireIfname(t);
    const algo = (await ctx.driver.mesh()).algo;
    const hardif = (await ctx.driver.interfaces()).find((i) => i.ifname === ifname);
    if (!hardif) throw new ActionError(`no hard interface ${ifname}`);
    if (algo === 'BATMAN_V') return { algo, throughputOverrideKbps: hardif.throughputOverrideKbps ?? 0 };
    if (hardif.hopPenalty >= STEER_HOP_PENALTY) throw new ActionError(`${ifname} hop_penalty already ${hardif.hopPenalty}`);
    return { algo, hopPenalty: hardif.hopPenalty };
  },
  async apply(ctx, t) {
    const ifname = requireIfname(t);
    if ((await ctx.driver.mesh()).algo === 'BATMAN_V') await ctx.driver.setHardIf(ifname, { throughputOverrideKbps: STEER_THROUGHPUT_KBPS });
    else await ctx.driver.setHardIf(ifname, { hopPenalty: STEER_HOP_PENALTY });
  },
  async check(ctx, t, state) {
    const i = (await ctx.driver.interfaces()).find((x) => x.ifname === t.ifname);
    if (!i) return `no hard interface ${t.ifname}`;
    if (state?.algo === 'BATMAN_V') return i.throughputOverrideKbps === STEER_THROUGHPUT_KBPS ? null : `throughput_override reads back ${i.throughputOverrideKbps}`;
    return i.hopPenalty === STEER_HOP_PENALTY ? null : `hop_penalty reads back ${i.hopPenalty}`;
  },
  async revert(ctx, t, state) {
    const ifname = requireIfname(t);
    const i = (await ctx.driver.interfaces()).find((x) => x.ifname === ifname);
    // Not what we set any more (and not already back): someone else changed it; theirs stays.
    if (i && state.algo === 'BATMAN_V' && i.throughputOverrideKbps !== STEER_THROUGHPUT_KBPS && i.throughputOverrideKbps !== Number(state.throughputOverrideKbps))
      throw new SupersededError(`${ifname} throughput_override is ${i.throughputOverrideKbps} kbit/s, set by someone else since`);
    if (i && state.algo !== 'BATMAN_V' && i.hopPenalty !== STEER_HOP_PENALTY && i.hopPenalty !== Number(state.hopPenalty))
      throw new SupersededError(`${ifname} hop_penalty is ${i.hopPenalty}, set by someone else since`);
    if (state.algo === 'BATMAN_V') await ctx.driver.setHardIf(ifname, { throughputOverrideKbps: Number(state.throughputOverrideKbps) });
    else await ctx.driver.setHardIf(ifname, { hopPenalty: Number(state.hopPenalty) });
  },
};
