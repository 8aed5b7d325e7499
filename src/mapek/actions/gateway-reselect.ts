// Rung 1: make batman-adv choose its gateway again. A gateway client keeps its selected gateway
// until that gateway's entry goes away (minutes); leaving client mode and entering it again drops
// the selection, and the next election picks among the gateways heard now.
import { ActionError, type HealAction } from './action.ts';

export const gatewayReselect: HealAction = {
  kind: 'gateway-reselect',
  rung: 1,
  disruptive: false,
  target: 'none',
  temporary: false,
  describe: () => 're-elect the gateway (gw_mode off, then client)',
  async prepare(ctx) {
    const s = await ctx.driver.settings();
    if (s.gwMode !== 'client') throw new ActionError(`gw_mode is ${s.gwMode}, not client`);
    return null;
  },
  async apply(ctx) {
    await ctx.driver.setMesh({ gwMode: 'off' });
    await ctx.driver.setMesh({ gwMode: 'client' });
  },
  async check(ctx) {
    const mode = (await ctx.driver.settings()).gwMode;
    return mode === 'client' ? null : `gw_mode reads back ${mode}`;
  },
};
