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
  const c = coreHealth(core);
  board.set('core', c.state, c.reason);
  for (const part of ['telemetry', 'federation', 'learning'] as const)
    board.set(part, config[part].enabled ? 'degraded' : 'disabled', config[part].enabled ? 'starting' : 'disabled in config');
  board.set('privileges', privileges.state, privileges.reason);
  return board;
}

/**
 * The core component. WASM without SIMD where this Node/CPU has none (MIPS routers) is the best
 * build that router can run: ok. The JS fallback is degraded: 3-5x slower than the scalar WASM,
 * and it only runs when the install lacks both .wasm files or Node runs without WebAssembly —
 * something to fix. So is the scalar WASM on a CPU that could run SIMD (core.wasm broken).
 */
export function coreHealth(core: Core | null): { state: ComponentState; reason: string } {
  if (core == null) return { state: 'down', reason: 'WASM core unavailable' };
  if (core.variant === 'wasm-simd') return { state: 'ok', reason: 'WebAssembly (SIMD)' };
  if (core.variant === 'wasm-scalar' && !core.simdSupported) return { state: 'ok', reason: 'scalar WebAssembly (no Wasm SIMD on this CPU/Node)' };
  if (core.variant === 'wasm-scalar') return { state: 'degraded', reason: `scalar WebAssembly: ${core.fallbackReason ?? 'SIMD build not used'}` };
  return { state: 'degraded', reason: `portable JS fallback: ${core.fallbackReason ?? ''}` };
}
