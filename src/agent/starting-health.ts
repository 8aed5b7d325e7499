// What /health shows before the agent's parts have started: the config as loaded, the core
// that loaded (or not), the process privileges, and every optional part as starting or
// disabled in config. The parts replace these states as they start and run.
import type { AgentConfig } from '../config/schema.ts';
import type { Core } from '../core/index.ts';
import type { ComponentState } from '../status/types.ts';
import { HealthBoard } from './health.ts';

export interface StartingHealth {
  config: AgentConfig;
  configSource: string;
  configWarnings: string[];
  core: Core | null;
  privileges: { state: ComponentState; reason: string };
}

export function startingHealth(node: string, { config, configSource, configWarnings, core, privileges }: StartingHealth): HealthBoard {
  const board = new HealthBoard(node);
  const warned = configWarnings.length > 0;
  board.set('config', warned ? 'degraded' : 'ok', warned ? `${configSource}: ${configWarnings.length} warning(s): ${configWarnings[0]}` : configSource);
  board.set('mesh', 'degraded', 'not polled yet');
  board.set('loop', config.healing.enabled ? 'degraded' : 'disabled', config.healing.enabled ? 'starting' : 'disabled in config');
  board.set(
    'core',
    core == null ? 'down' : core.kind === 'wasm' ? 'ok' : 'degraded',
    core == null ? 'WASM core unavailable' : core.kind === 'wasm' ? 'WebAssembly' : `portable JS fallback: ${core.fallbackReason ?? ''}`,
  );
  for (const part of ['telemetry', 'federation', 'learning'] as const)
    board.set(part, config[part].enabled ? 'degraded' : 'disabled', config[part].enabled ? 'starting' : 'disabled in config');
  board.set('privileges', privileges.state, privileges.reason);
  return board;
}
