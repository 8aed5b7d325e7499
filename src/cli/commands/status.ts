import { UsageError, UserError, type CliCommand } from '../command.ts';
import { fetchStatus, notAgentError, StatusClientError } from '../../status/client.ts';
import { statusProblem } from '../../status/answer-checks.ts';
import { renderStatus } from '../../status/render.ts';
import type { HealthReport, StatusReport } from '../../status/types.ts';
import { resolveSocketPath } from '../config-path.ts';

export const statusCommand: CliCommand = {
  name: 'status',
  summary: "show the running agent's node, health, links and recent events",
  usage: `usage: x0tta6bl4 status [--json] [--health|--metrics] [--socket PATH] [--config PATH]

Asks the running agent over its status socket (status.socket in /etc/config/x0tta6bl4).
Exit code: 0 healthy, 1 degraded, unreachable or not an agent answering, 3 down.`,
  flags: {
    json: { type: 'boolean', describe: 'print the /status document as JSON' },
    health: { type: 'boolean', describe: 'print only component health' },
    metrics: { type: 'boolean', describe: 'print the Prometheus metrics text' },
    socket: { type: 'string', value: 'PATH', describe: 'status socket (default: from the config)' },
    config: { type: 'string', value: 'PATH', describe: 'config file (default /etc/config/x0tta6bl4)' },
  },
  async run({ flags, positionals, io }) {
    if (positionals.length) throw new UsageError(`status takes no arguments (got '${positionals[0]}')`);
    const socket = resolveSocketPath(flags);
    try {
      if (flags.metrics) {
        io.out(await fetchStatus<string>(socket, '/metrics'));
        return 0;
      }
      if (flags.health) {
        const h = await fetchStatus<HealthReport>(socket, '/health');
        io.out(flags.json ? JSON.stringify(h, null, 2) : h.components.map((c) => `${c.name.padEnd(12)}${c.state.padEnd(10)}${c.reason}`).join('\n'));
        return exitFor(h.overall);
      }
      const s = await fetchStatus<StatusReport>(socket, '/status');
      const problem = statusProblem(s);
      if (problem) throw notAgentError(socket, '/status', problem);
      io.out(flags.json ? JSON.stringify(s, null, 2) : renderStatus(s));
      return exitFor(s.health.overall);
    } catch (e) {
      if (e instanceof StatusClientError) throw new UserError(e.message);
      throw e;
    }
  },
};

function exitFor(overall: HealthReport['overall']): number {
  return overall === 'ok' ? 0 : overall === 'degraded' ? 1 : 3;
}
