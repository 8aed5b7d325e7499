import type { ComponentHealth, ComponentState, HealthReport } from '../status/types.ts';

// Components whose failure means the agent cannot do its job at all.
const ESSENTIAL = new Set(['config', 'mesh', 'loop']);
// Shown with their state, but an unreachable trace collector does not make the router unhealthy.
const ADVISORY = new Set(['tracing']);

type Probe = () => { state: ComponentState; reason: string };

/** Every component reports here; /health shows them in registration order. */
export class HealthBoard {
  private readonly components = new Map<string, ComponentHealth>();
  private readonly listeners: ((c: ComponentHealth, before: ComponentState | undefined) => void)[] = [];
  private readonly probes = new Map<string, Probe>();

  constructor(private readonly node: string) {}

  set(name: string, state: ComponentState, reason: string): void {
    const before = this.components.get(name);
    if (before && before.state === state && before.reason === reason) return;
    const next = { name, state, reason };
    this.components.set(name, next);
    for (const l of this.listeners) l(next, before?.state);
  }

  get(name: string): ComponentHealth | undefined {
    return this.components.get(name);
  }

  onChange(listener: (c: ComponentHealth, before: ComponentState | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** A component read when health is asked for, not pushed (no timer): the tracing exporter. */
  probe(name: string, read: Probe): void {
    this.probes.set(name, read);
    const now = read();
    this.set(name, now.state, now.reason);
  }

  report(): HealthReport {
    for (const [name, read] of this.probes) {
      const now = read();
      this.set(name, now.state, now.reason);
    }
    const components = [...this.components.values()];
    let overall: HealthReport['overall'] = 'ok';
    for (const c of components) {
      if (ADVISORY.has(c.name)) continue;
      if (c.state === 'down' && ESSENTIAL.has(c.name)) overall = 'down';
      else if ((c.state === 'down' || c.state === 'degraded') && overall === 'ok') overall = 'degraded';
    }
    return { schema: 1, node: this.node, overall, components: components.map((c) => ({ ...c })) };
  }
}
