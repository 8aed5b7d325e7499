// How CLI commands find the config and the status socket: flags first, then the config file.
import { existsSync } from 'node:fs';
import { ConfigError, defaultConfig, formatConfigIssue, loadConfig, type AgentConfig } from '../config/index.ts';
import { summarizeIssues } from '../config/config-error.ts';
import { UserError, type FlagValues } from './command.ts';

export const DEFAULT_CONFIG_PATH = '/etc/config/x0tta6bl4';

export interface CliConfig {
  config: AgentConfig;
  source: string;
  warnings: string[];
}

/** Loads --config (or the default path); an invalid config is a one-line UserError with every issue. */
export function loadConfigForCli(flags: FlagValues): CliConfig {
  const path = typeof flags.config === 'string' ? flags.config : DEFAULT_CONFIG_PATH;
  try {
    const { config, warnings } = loadConfig(path);
    return { config, source: path, warnings: warnings.map(formatConfigIssue) };
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new UserError(`invalid config, not starting: ${e.issues.length ? summarizeIssues(e.issues) : e.message}`);
    }
    throw e;
  }
}

/** The status socket: --socket, else the config's (when the file exists), else the default. */
export function resolveSocketPath(flags: FlagValues): string {
  if (typeof flags.socket === 'string') return flags.socket;
  if (typeof flags.config === 'string' || existsSync(DEFAULT_CONFIG_PATH)) return loadConfigForCli(flags).config.status.socket;
  return defaultConfig().status.socket;
}
