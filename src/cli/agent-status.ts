// The running agent's /status for the CLI commands that show one part of it (actions,
// learning, peers): one place that turns an unreachable socket into a user error.
import { fetchStatus, StatusClientError } from '../status/client.ts';
import type { StatusReport } from '../status/types.ts';
import { UserError, type FlagSpec, type FlagValues } from './command.ts';
import { resolveSocketPath } from './config-path.ts';

export async function readAgentStatus(flags: FlagValues): Promise<StatusReport> {
  try {
    return await fetchStatus<StatusReport>(resolveSocketPath(flags), '/status');
  } catch (e) {
    if (e instanceof StatusClientError) throw new UserError(e.message);
    throw e;
  }
}

/** The flags of those commands: --json for the block as JSON, and where the agent's socket is. */
export function blockFlags(block: string): Record<string, FlagSpec> {
  return {
    json: { type: 'boolean', describe: `print the ${block} block as JSON` },
    socket: { type: 'string', value: 'PATH', describe: 'status socket (default: from the config)' },
    config: { type: 'string', value: 'PATH', describe: 'config file (default /etc/config/x0tta6bl4)' },
  };
}
