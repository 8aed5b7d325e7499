// What the router tests read about the installed agent, from inside the router: its processes
// (from /proc, zombies left out), its /status over the status socket, procd's view of it.
import type { Router } from './router.ts';

/** PIDs (in the router's PID namespace) of running agent processes: node running the bundle's `agent`. */
export function agentPids(r: Router): number[] {
  const out = r.run(`for d in /proc/[0-9]*; do
	c="$(tr '\\0' ' ' < "$d/cmdline" 2>/dev/null)"
	case "$c" in "/usr/bin/node "*"/usr/lib/x0tta6bl4/x0tta6bl4.mjs agent"*) ;; *) continue ;; esac
	[ "$(awk '/^State:/ { print $2 }' "$d/status" 2>/dev/null)" = Z ] || echo "\${d#/proc/}"
done`);
  return out.split('\n').filter(Boolean).map(Number);
}

/** /proc/PID/status fields of a process inside the router. */
export function procStatus(r: Router, pid: number): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of r.run(`cat /proc/${pid}/status`).split('\n')) {
    const m = /^([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (m) fields[m[1]!] = m[2]!;
  }
  return fields;
}

/** The agent's /status document (`x0tta6bl4 status --json` inside the router), or null when it does not answer. */
export function agentStatus(r: Router): { node: { name: string; driver: string }; health: { overall: string } } | null {
  const res = r.exec('x0tta6bl4 status --json', { timeoutMs: 30_000 });
  try {
    return JSON.parse(res.stdout);
  } catch {
    return null;
  }
}

/** procd's instance of the agent service (`ubus call service list`), or undefined. */
export function serviceInstance(r: Router): { running: boolean; pid: number; user?: string; capabilities?: string; no_new_privs?: boolean } | undefined {
  const res = r.exec(`ubus call service list '{"name":"x0tta6bl4"}'`);
  if (res.status !== 0 || !res.stdout.trim()) return undefined;
  return JSON.parse(res.stdout).x0tta6bl4?.instances?.agent;
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Polls `check` until it returns a value other than undefined/false; throws with `what` after `seconds`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, seconds = 60): Promise<T> {
  for (let i = 0; i < seconds * 4; i++) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The one running agent's PID once it answers on its status socket. */
export async function runningAgent(r: Router, what: string, seconds = 90): Promise<number> {
  return waitFor(what, () => {
    const pids = agentPids(r);
    return pids.length === 1 && agentStatus(r) !== null ? pids[0] : undefined;
  }, seconds);
}

/** The router's syslog (procd, and the agent's stdout/stderr), procd's view of the agent and the processes, for failure messages. */
export function routerLogs(r: Router): string {
  return r.exec('tail -n 40 /tmp/log/messages; tail -n 20 /tmp/log/procd.log; ubus call service list \'{"name":"x0tta6bl4"}\'; ps w').stdout;
}

/**
 * A stand-in for netifd's ubus object `network` (no netifd runs in the test router): a ucode
 * script on the real ubus whose `reload` method records that it was called in /tmp/network-reloaded.
 */
export async function startNetifdStandIn(r: Router): Promise<void> {
  r.run(`cat > /tmp/netifd-standin.uc <<'UC'
import * as ubus from 'ubus';
import * as uloop from 'uloop';
import { writefile } from 'fs';
uloop.init();
let conn = ubus.connect();
conn.publish('network', { reload: { call: function(req) { writefile('/tmp/network-reloaded', 'yes'); return {}; }, args: {} } });
uloop.run();
UC
(ucode /tmp/netifd-standin.uc > /tmp/log/netifd-standin.log 2>&1 &)`);
  await waitFor('the network stand-in on ubus', () => r.exec('ubus list network').status === 0, 30);
}

/** Runs a command as the agent's user (busybox su; the user's shell is /bin/false). */
export function asAgentUser(r: Router, cmd: string): { status: number | null; out: string } {
  const res = r.exec(`su -s /bin/sh x0tta6bl4 -c '${cmd.replace(/'/g, "'\\''")}'`);
  return { status: res.status, out: res.stdout + res.stderr };
}
