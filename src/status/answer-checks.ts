// What the CLI accepts as the agent's answer: the shapes it renders, checked before they are
// rendered, so that whatever else listens on the socket path gives one line and exit 1 instead
// of garbage on stdout (or a TypeError).
const STATES = new Set(['ok', 'degraded', 'down', 'disabled']);
const OVERALL = new Set(['ok', 'degraded', 'down']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** Why a /health document is not one, or null when it is. */
export function healthProblem(v: unknown): string | null {
  if (!isObject(v)) return 'expected a JSON object';
  if (v.schema !== 1) return 'no schema 1';
  if (!isString(v.overall) || !OVERALL.has(v.overall)) return "no overall 'ok', 'degraded' or 'down'";
  if (!Array.isArray(v.components)) return 'no components list';
  for (const c of v.components)
    if (!isObject(c) || !isString(c.name) || !isString(c.reason) || !isString(c.state) || !STATES.has(c.state))
      return 'a component without name, state or reason';
  return null;
}

/** Why a /status document is not one, or null when it is (checks what `status` renders). */
export function statusProblem(v: unknown): string | null {
  if (!isObject(v)) return 'expected a JSON object';
  if (v.schema !== 1) return 'no schema 1';
  const n = v.node;
  if (!isObject(n) || !isString(n.name) || !isString(n.version) || typeof n.uptimeS !== 'number') return 'no node block';
  const h = healthProblem(v.health);
  if (h) return `health: ${h}`;
  if (!isObject(v.mesh) || !Array.isArray(v.mesh.gateways)) return 'no mesh block';
  if (!Array.isArray(v.links) || !Array.isArray(v.events)) return 'no links or events';
  return null;
}

// One sample line of the Prometheus text format 0.0.4: name, optional labels, value, optional timestamp.
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( -?\d+)?$/;

/** Why a /metrics text is not the agent's, or null when it is. */
export function metricsProblem(text: string): string | null {
  if (!text.includes('x0tta6bl4_build_info')) return 'no x0tta6bl4_build_info metric';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '' || l.startsWith('#')) continue;
    if (!SAMPLE.test(l)) return `line ${i + 1} is not a Prometheus sample`;
  }
  return null;
}
