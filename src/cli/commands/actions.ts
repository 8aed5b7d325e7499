import { UsageError, UserError, type CliCommand } from '../command.ts';
import { readAgentStatus } from '../agent-status.ts';
import { renderActions } from '../../mapek/render-actions.ts';

export const actionsCommand: CliCommand = {
  name: 'actions',
  summary: "show the self-healing loop's action journal (what, why, when, outcome) and its plan",
  usage: `usage: x0tta6bl4 actions [--json] [--socket PATH] [--config PATH]

Asks the running agent over its status socket for the healing block of /status.
Exit code: 0 healing runs, 1 agent unreachable, 4 healing is off.`,
  flags: {
    json: { type: 'boolean', describe: 'print the healing block as JSON' },
    socket: { type: 'string', value: 'PATH', describe: 'status socket (default: from the config)' },
    config: { type: 'string', value: 'PATH', describe: 'config file (default /etc/config/x0tta6bl4)' },
  },
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
