// The WASM core is an optimisation and the learning engine, not a condition for watching the
// mesh: if neither build loads, the agent runs on and reports the core as down.
import { loadCore, type Core } from '../core/index.ts';
import type { Logger } from './logger.ts';

export async function openCore(log: Logger): Promise<Core | null> {
  try {
    const core = await loadCore();
    const why = core.fallbackReason ?? 'unknown reason';
    if (core.variant === 'js') log.warn(`WASM core unavailable, using portable JS: ${why}`);
    else if (core.variant === 'wasm-scalar' && core.simdSupported) log.warn(`WASM SIMD core unusable, using scalar WASM: ${why}`);
    else if (core.variant === 'wasm-scalar') log.info(`no Wasm SIMD on this CPU/Node: using the scalar WASM core`);
    return core;
  } catch (e) {
    log.error(`core failed to load: ${(e as Error).message}`);
    return null;
  }
}
