// Rung 3: quarantine a neighbour: nftables drops its batman-adv frames (ethertype 0x4305) as they
// enter the hard interface, so batman-adv stops routing over it; released after the hold time.
// One netdev ingress chain per (interface, neighbour) in table "x0tta6bl4": adding and deleting
// a chain is atomic in one `nft -f -` transaction and needs no rule handles.
import { describeFailure } from '../command-runner.ts';
import { ActionError, requireIfname, requireMac, type ActionContext, type ActionTarget, type HealAction } from './action.ts';

export const NFT_TABLE = 'x0tta6bl4';
export const BATADV_ETHERTYPE = '0x4305';

export function quarantineChain(t: ActionTarget): string {
  return `q-${requireIfname(t)}-${requireMac(t).replaceAll(':', '')}`;
}

/** The nft script that installs the quarantine (exported for the simulator host and tests). */
export function quarantineScript(t: ActionTarget): string {
  const chain = quarantineChain(t);
  return [
    `add table netdev ${NFT_TABLE}`,
    `add chain netdev ${NFT_TABLE} ${chain} { type filter hook ingress device "${requireIfname(t)}" priority -500; policy accept; }`,
    `flush chain netdev ${NFT_TABLE} ${chain}`,
    `add rule netdev ${NFT_TABLE} ${chain} ether saddr ${requireMac(t)} ether type ${BATADV_ETHERTYPE} counter drop`,
    '',
  ].join('\n');
}

export function releaseScript(t: ActionTarget): string {
  const chain = quarantineChain(t);
  // "add" first makes the delete succeed even when the chain is already gone (after a reboot).
  return [
    `add table netdev ${NFT_TABLE}`,
    `add chain netdev ${NFT_TABLE} ${chain} { type filter hook ingress device "${requireIfname(t)}" priority -500; policy accept; }`,
    `flush chain netdev ${NFT_TABLE} ${chain}`,
    `delete chain netdev ${NFT_TABLE} ${chain}`,
    '',
  ].join('\n');
}

/** Loads one nft script in one transaction (all of it or nothing); a refusal is the action's error. */
export async function runNftScript(ctx: ActionContext, script: string): Promise<void> {
  const argv = ['nft', '-f', '-'];
  const r = await ctx.run(argv, { input: script });
  if (r.code !== 0) throw new ActionError(describeFailure(argv, r));
}

/** Our chain's rules as `nft list` prints them, or why they cannot be read (the check's answer). */
export async function listNftChain(ctx: ActionContext, chain: string): Promise<{ rules: string } | { problem: string }> {
  const argv = ['nft', 'list', 'chain', 'netdev', NFT_TABLE, chain];
  const r = await ctx.run(argv);
  return r.code === 0 ? { rules: r.stdout } : { problem: describeFailure(argv, r) };
}

export const quarantine: HealAction = {
  kind: 'quarantine',
  rung: 3,
  disruptive: false,
  target: 'neighbour',
  temporary: true,
  describe: (t) => `quarantine ${t.neighbour} on ${t.ifname} (nftables drop of ethertype ${BATADV_ETHERTYPE})`,
  async prepare(_ctx, t) {
    return { chain: quarantineChain(t) };
  },
  async apply(ctx, t) {
    await runNftScript(ctx, quarantineScript(t));
  },
  async check(ctx, t) {
    const listed = await listNftChain(ctx, quarantineChain(t));
    if ('problem' in listed) return listed.problem;
    return /ether saddr/.test(listed.rules) && /drop/.test(listed.rules) ? null : `chain ${quarantineChain(t)} holds no drop rule`;
  },
  async revert(ctx, t) {
    await runNftScript(ctx, releaseScript(t));
  },
};
