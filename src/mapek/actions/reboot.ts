// Rung 6: reboot. Off unless healing.allow_reboot is set: blind reboots hide the bug that hung
// the radio (Gluon's maintainers reject them), so the ladder only gets here after everything
// else failed, within the hourly limit, and the journal says why across the reboot.
import { describeFailure } from '../command-runner.ts';
import { ActionError, type HealAction } from './action.ts';

export const reboot: HealAction = {
  kind: 'reboot',
  rung: 6,
  disruptive: true,
  target: 'none',
  temporary: false,
  describe: () => 'reboot the router',
  async prepare() {
    return null;
  },
  async apply(ctx) {
    const argv = ['reboot'];
    const r = await ctx.run(argv);
    if (r.code !== 0) throw new ActionError(describeFailure(argv, r));
  },
  async check() {
    return null;
  },
};
