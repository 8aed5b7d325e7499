import { UsageError, UserError, type CliCommand } from '../command.ts';
import { blockFlags, readAgentStatus } from '../agent-status.ts';
import { renderLearningStatus } from '../../learning/render-status.ts';
import type { LearningStatus } from '../../learning/status.ts';

export const learningCommand: CliCommand = {
  name: 'learning',
  summary: 'show the federated link-failure model: round, peers, rule, rejections, quality',
  usage: `usage: x0tta6bl4 learning [--json] [--socket PATH] [--config PATH]

Asks the running agent over its status socket for the learning block of /status.
Exit code: 0 learning runs, 1 agent unreachable, 4 learning is off.`,
  flags: blockFlags('learning'),
  async run({ flags, positionals, io }) {
    if (positionals.length) throw new UsageError(`learning takes no arguments (got '${positionals[0]}')`);
    const s = await readAgentStatus(flags);
    const l = s.learning as LearningStatus | null;
    if (!l) {
      io.out(flags.json ? 'null' : "learning is off (set option enabled '1' in config learning)");
      return 4;
    }
    if (typeof l !== 'object' || l.schema !== 1) throw new UserError('the agent sent a learning block this CLI does not understand (schema mismatch)');
    io.out(flags.json ? JSON.stringify(l, null, 2) : renderLearningStatus(l));
    return 0;
  },
};
