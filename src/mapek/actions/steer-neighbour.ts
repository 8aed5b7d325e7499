// Rung 2, per neighbour: move traffic off one neighbour before its link dies, without touching
// the others on the same (shared Wi-Fi) interface. nftables drops a share of that neighbour's
// BATMAN_IV OGMs (ethertype 0x4305, batman-adv packet type 0x00 in the first byte after the
// Ethernet header) as they enter the hard interface; its data frames (unicast 0x40, broadcast
// 0x01) still pass. batman-adv then sees fewer of the neighbour's OGMs and echoes, its link TQ
// sinks smoothly (the echo and receive windows average 64 OGMs), and routes through other
// neighbours win by batman-adv's own rules, with the link kept. Deleting the chain restores it.
// One netdev ingress chain per (interface, neighbour) in our own table, as the quarantine does.
// BATMAN_V ranks by throughput, not by OGM loss: the action refuses there.
// When the neighbour is alone on a hard interface that is not the primary one, the interface is
// also taken out of the mesh and put back once (re-enslave.ts): batman-adv forgets the neighbour
// at once, hears it again on its next OGM that passes, and starts its link TQ from nothing, so
// the route moves now instead of over seconds of sinking TQ; the link itself stays up.
import { ActionError, requireIfname, requireMac, type ActionTarget, type HealAction } from './action.ts';
import { BATADV_ETHERTYPE, NFT_TABLE, listNftChain, runNftScript } from './quarantine.ts';
import { ipLink, reEnslavable, reEnslave, recordedMaster } from './re-enslave.ts';

/**
 * Share of the neighbour's OGMs dropped, in percent. Below 100 on purpose: the neighbour stays
 * heard (no "dead link" finding, no purge by batman-adv), only its TQ falls. At 75 % the link's TQ ends near a
 * fifth of what it was, well below any working detour; the bound is STEER_MAX_DROP_PCT.
 */
export const STEER_DROP_PCT = 75;
export const STEER_MAX_DROP_PCT = 90;
/** batman-adv's packet type of a BATMAN_IV OGM (enum batadv_packettype). */
export const BATADV_IV_OGM = 0x00;

export function steerChain(t: ActionTarget): string {
  return `s-${requireIfname(t)}-${requireMac(t).replaceAll(':', '')}`;
}

function chainHead(t: ActionTarget): string {
  return `add chain netdev ${NFT_TABLE} ${steerChain(t)} { type filter hook ingress device "${requireIfname(t)}" priority -490; policy accept; }`;
}

/** The nft script that installs the steering at `pct` % (exported for the simulator host and tests). */
export function steerScript(t: ActionTarget, pct: number = STEER_DROP_PCT): string {
  if (!(Number.isInteger(pct) && pct >= 1 && pct <= STEER_MAX_DROP_PCT)) throw new ActionError(`steer share must be 1..${STEER_MAX_DROP_PCT} %, got ${pct}`);
  return [
    `add table netdev ${NFT_TABLE}`,
    chainHead(t),
    `flush chain netdev ${NFT_TABLE} ${steerChain(t)}`,
    // @ll,112,8: the byte after the 14-byte Ethernet header, batman-adv's packet type.
    `add rule netdev ${NFT_TABLE} ${steerChain(t)} ether saddr ${requireMac(t)} ether type ${BATADV_ETHERTYPE} @ll,112,8 ${BATADV_IV_OGM} numgen random mod 100 < ${pct} counter drop`,
    '',
  ].join('\n');
}

export function unsteerScript(t: ActionTarget): string {
  // "add" first makes the delete succeed even when the chain is already gone (after a reboot).
  return [`add table netdev ${NFT_TABLE}`, chainHead(t), `delete chain netdev ${NFT_TABLE} ${steerChain(t)}`, ''].join('\n');
}

export const steerNeighbour: HealAction = {
  kind: 'steer-neighbour',
  rung: 2,
  disruptive: false,
  target: 'neighbour',
  temporary: true,
  describe: (t) => `steer traffic off ${t.neighbour} on ${t.ifname} (nftables drops ${STEER_DROP_PCT} % of its OGMs)`,
  async prepare(ctx, t) {
    const ifname = requireIfname(t);
    const mac = requireMac(t);
    const algo = (await ctx.driver.mesh()).algo;
    if (algo !== 'BATMAN_IV') throw new ActionError(`${algo} does not rank routes by OGM loss; steering by dropping OGMs needs BATMAN_IV`);
    const neighbours = await ctx.driver.neighbours();
    if (!neighbours.some((n) => n.hardIfname === ifname && n.neighbour === mac)) throw new ActionError(`${mac} is not a neighbour on ${ifname}`);
    const alone = neighbours.every((n) => n.hardIfname !== ifname || n.neighbour === mac);
    const master = alone ? await reEnslavable(ctx, ifname) : null;
    return { chain: steerChain(t), pct: STEER_DROP_PCT, ...(master ? { master } : {}) };
  },
  async apply(ctx, t) {
    await runNftScript(ctx, steerScript(t));
    const ifname = requireIfname(t);
    const neighbours = await ctx.driver.neighbours();
    const master = neighbours.every((n) => n.hardIfname !== ifname || n.neighbour === t.neighbour) ? await reEnslavable(ctx, ifname) : null;
    if (master) await reEnslave(ctx, ifname, master);
  },
  async check(ctx, t) {
    const listed = await listNftChain(ctx, steerChain(t));
    if ('problem' in listed) return listed.problem;
    const m = /numgen random mod 100 < (\d+)/.exec(listed.rules);
    if (!m || !listed.rules.includes(requireMac(t)) || !/drop/.test(listed.rules)) return `chain ${steerChain(t)} holds no steering rule`;
    return Number(m[1]) === STEER_DROP_PCT ? null : `chain ${steerChain(t)} drops ${m[1]} %, not ${STEER_DROP_PCT} %`;
  },
  async revert(ctx, t, state) {
    await runNftScript(ctx, unsteerScript(t));
    // An agent killed between taking the interface out and putting it back left it out.
    const master = recordedMaster(state);
    if (master) await ipLink(ctx, requireIfname(t), 'master', master);
  },
};
