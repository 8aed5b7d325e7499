// The oldest Node the bundle runs on, and the one line that says a runtime is older. 18.20 is
// what OpenWrt 23.05 and Debian bookworm ship; older 18.x lack APIs the bundle uses.
export const MIN_NODE = '18.20.0';

function parts(v: string): [number, number, number] | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** True when version a (like '18.20.4' or 'v20.1.0') is at least b; false when a is unreadable. */
export function versionAtLeast(a: string, b: string): boolean {
  const x = parts(a);
  const y = parts(b);
  if (!x || !y) return false;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return true;
}

/** null when this Node is new enough, else the one line to print before exiting 1. */
export function nodeVersionProblem(version: string = process.versions.node): string | null {
  if (versionAtLeast(version, MIN_NODE)) return null;
  return `x0tta6bl4 needs Node >= ${MIN_NODE.replace(/\.0$/, '')}; this is Node ${version.replace(/[^\w.+-]/g, '?')}: install a newer node package`;
}
