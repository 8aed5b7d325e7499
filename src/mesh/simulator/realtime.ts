// Runs a world against the wall clock for the demo: every `tickMs` of real time the world steps
// `tickMs * speed` of virtual time. The world itself never reads a clock; only this helper
// uses a timer, and it can be stopped.
import { SimulatorError } from './errors.ts';
import type { SimulatedMesh } from './world.ts';

export interface RealtimeOptions {
  /** Real milliseconds between steps (default 100). */
  tickMs?: number;
  /** Virtual ms per real ms (default 1). */
  speed?: number;
  /** Called after every step, e.g. to redraw. */
  onStep?: (world: SimulatedMesh) => void;
  /** Let the process exit while running (default false). */
  unref?: boolean;
}

export interface RealtimeRun {
  stop(): void;
  readonly running: boolean;
}

export function runRealtime(world: SimulatedMesh, opts: RealtimeOptions = {}): RealtimeRun {
  const tickMs = opts.tickMs ?? 100;
  const speed = opts.speed ?? 1;
  if (!(tickMs > 0) || !Number.isFinite(tickMs)) throw new SimulatorError('INVALID', `tickMs must be > 0, got ${tickMs}`);
  if (!(speed > 0) || !Number.isFinite(speed)) throw new SimulatorError('INVALID', `speed must be > 0, got ${speed}`);
  let running = true;
  const timer = setInterval(() => {
    world.step(tickMs * speed);
    opts.onStep?.(world);
  }, tickMs);
  if (opts.unref) timer.unref();
  return {
    stop() {
      if (!running) return;
      running = false;
      clearInterval(timer);
    },
    get running() {
      return running;
    },
  };
}
