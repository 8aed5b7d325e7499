// Taking a hard interface out of the mesh and putting it straight back: batman-adv then drops
// every neighbour it knew there at once (batadv_hardif_disable_interface purges), where a down
// interface loses them only at its next purge, up to a second later. Never the primary
// interface: its MAC is the node's originator address, and taking it out renames the node for
// the whole mesh. Real kernel only: the simulator has no enslaving.
import type { HardIfSettings, HardInterface } from '../../mesh/driver.ts';
import { describeFailure } from '../command-runner.ts';
import { ActionError, type ActionContext, type RevertState } from './action.ts';

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** The mesh interface `ifname` may be taken out of and put back into, or null (simulator, primary interface, unknown). */
export async function reEnslavable(ctx: ActionContext, ifname: string): Promise<string | null> {
  if (ctx.driver.kind !== 'batman-adv') return null;
  const mesh = await ctx.driver.mesh();
  return mesh.primaryIfname !== undefined && mesh.primaryIfname !== ifname && IFNAME.test(mesh.meshIfname) ? mesh.meshIfname : null;
}

/** A master recorded in a journal entry, if it is a plausible interface name. */
export function recordedMaster(state: Record<string, unknown>): string | null {
  return typeof state.master === 'string' && IFNAME.test(state.master) ? state.master : null;
}

export async function ipLink(ctx: ActionContext, ifname: string, ...args: string[]): Promise<void> {
  const argv = ['ip', 'link', 'set', 'dev', ifname, ...args];
  const r = await ctx.run(argv);
  if (r.code !== 0) throw new ActionError(describeFailure(argv, r));
}

/** Out of `master` and back in at once, its hard-interface settings kept. */
export async function reEnslave(ctx: ActionContext, ifname: string, master: string): Promise<void> {
  const before = await hardIfSettings(ctx, ifname);
  await ipLink(ctx, ifname, 'nomaster');
  await ipLink(ctx, ifname, 'master', master);
  if (before) await restoreHardIf(ctx, ifname, before);
}

/** null once batman-adv has `ifname` active again, else why not (its netdev notifier re-activates it a moment after). */
export async function activeAgain(ctx: ActionContext, ifname: string): Promise<string | null> {
  for (let i = 0; i < 10; i++) {
    if ((await ctx.driver.interfaces()).find((x) => x.ifname === ifname)?.active) return null;
    await ctx.sleep(300);
  }
  return `${ifname} is not active again`;
}

/** The settings batman-adv keeps per hard interface (hop penalty; BATMAN_V's ELP interval and throughput override), as a journal can hold them. */
export async function hardIfSettings(ctx: ActionContext, ifname: string): Promise<Partial<HardIfSettings> | null> {
  const i = (await ctx.driver.interfaces()).find((x) => x.ifname === ifname);
  return i ? pick(i) : null;
}

function pick(i: Partial<HardInterface> | RevertState): Partial<HardIfSettings> {
  const out: Partial<HardIfSettings> = {};
  for (const k of ['hopPenalty', 'elpIntervalMs', 'throughputOverrideKbps'] as const) if (Number.isInteger(i[k])) out[k] = Number(i[k]);
  return out;
}

/**
 * Sets back what differs: a kernel that makes a new hard interface on enslaving (6.10 on) starts
 * it at its defaults. `saved` may come from a journal entry (only integers are taken from it).
 */
export async function restoreHardIf(ctx: ActionContext, ifname: string, saved: Partial<HardIfSettings> | RevertState): Promise<void> {
  const want = pick(saved);
  // batman-adv lists the hard interface a moment after it is enslaved.
  for (let i = 0; i < 10; i++) {
    const now = (await ctx.driver.interfaces()).find((x) => x.ifname === ifname);
    if (now) {
      const changes = Object.fromEntries(Object.entries(want).filter(([k, v]) => now[k as keyof HardIfSettings] !== v));
      if (Object.keys(changes).length) await ctx.driver.setHardIf(ifname, changes);
      return;
    }
    await ctx.sleep(100);
  }
}
