// The running agent's /status for the CLI commands that show one part of it (actions,
// learning, peers): one place that turns an unreachable socket into a user error.
import { fetchStatus, StatusClientError } from '../status/client.ts';
import type { StatusReport } from '../status/types.ts';
import { UserError, type FlagValues } from './command.ts';
import { resolveSocketPath } from './config-path.ts';

export async function readAgentStatus(flags: FlagValues): Promise<StatusReport> {
  try {
    return await fetchStatus<StatusReport>(resolveSocketPath(flags), '/status');
  } catch (e) {
    if (e instanceof StatusClientError) throw new UserError(e.message);
    throw e;
  }
}
