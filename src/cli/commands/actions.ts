import { UsageError, UserError, type CliCommand } from '../command.ts';
import { blockFlags, readAgentStatus } from '../agent-status.ts';
import { renderActions } from '../../mapek/render-actions.ts';

export const actionsCommand: CliCommand = {
  name: 'actions',
  summary: "show the self-healing loop's action journal (what, why, when, outcome) and its plan",
  usage: `usage: x0tta6bl4 actions [--json] [--socket PATH] [--config PATH]

Asks the running agent over its status socket for the healing block of /status.
Exit code: 0 healing runs, 1 agent unreachable, 4 healing is off.`,
  flags: blockFlags('healing'),
  async run({ flags, positionals, io }) {
    if (positionals.length) throw new UsageError(`actions takes no arguments (got '${positionals[0]}')`);
    const s = await readAgentStatus(flags);
    const h = s.healing ?? null;
    if (h !== null && (typeof h !== 'object' || !Array.isArray(h.journal) || !Array.isArray(h.plan)))
      throw new UserError('the agent sent a healing block this CLI does not understand (schema mismatch)');
    if (flags.json) io.out(JSON.stringify(h, null, 2));
    else io.out(renderActions(h).trimEnd());
    return h ? 0 : 4;
  },
};
