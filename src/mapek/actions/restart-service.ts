// Rung 5: restart the radios the OpenWrt way: `wifi reload` where OpenWrt's wifi script exists,
// else `/etc/init.d/network restart`. Nothing to revert.
import { describeFailure, type CommandRunner } from '../command-runner.ts';
import { ActionError, type HealAction } from './action.ts';

const CANDIDATES = [
  { probe: '/sbin/wifi', argv: ['/sbin/wifi', 'reload'] },
  { probe: '/etc/init.d/network', argv: ['/etc/init.d/network', 'restart'] },
];

async function pick(run: CommandRunner): Promise<string[] | null> {
  for (const c of CANDIDATES) if ((await run(['test', '-x', c.probe])).code === 0) return c.argv;
  return null;
}

export const restartService: HealAction = {
  kind: 'restart-service',
  rung: 5,
  disruptive: true,
  target: 'none',
  temporary: false,
  describe: () => 'restart the wireless service (wifi reload)',
  async prepare(ctx) {
    if (!(await pick(ctx.run))) throw new ActionError('neither /sbin/wifi nor /etc/init.d/network exists here');
    return null;
  },
  async apply(ctx) {
    const argv = await pick(ctx.run);
    if (!argv) throw new ActionError('neither /sbin/wifi nor /etc/init.d/network exists here');
    const r = await ctx.run(argv, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new ActionError(describeFailure(argv, r));
  },
  async check(ctx) {
    const up = (await ctx.driver.interfaces()).filter((i) => i.active).length;
    return up > 0 ? null : 'no hard interface active after the restart';
  },
};
