// Runs inside the router VM (bundled, started by the S99 boot script as root once procd has run
// every boot script). It only gathers what the kernel, procd and the agent say, into
// /x0vm/report.json (rewritten after every phase, so a hang still leaves what came before);
// router-vm.test.ts on the host judges it. Phases: PID 1 and the agent's process as procd
// started it; real batman-adv data from the jailed agent; a dead link the agent heals.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { MESH } from './vm-files.ts';

const REPORT = '/x0vm/report.json';
const report: Record<string, unknown> = { phases: [] as string[] };
const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[${uptime().toFixed(1)}s] ${m}\n`);

function save(phase: string): void {
  (report.phases as string[]).push(`${phase} ${uptime().toFixed(1)}`);
  writeFileSync(REPORT, JSON.stringify(report, null, 2));
  log(`phase ${phase}`);
}

/** stdout, or the error text with its exit status (a failing command is a fact too). */
function sh(cmd: string, timeoutMs = 60_000): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const x = e as { status?: number; stdout?: string; stderr?: string; message: string };
    return { code: x.status ?? -1, out: `${x.stdout ?? ''}${x.stderr ?? ''}` || x.message };
  }
}

function json(cmd: string): unknown {
  const r = sh(cmd);
  try {
    return JSON.parse(r.out);
  } catch {
    return { unparsed: r.out, code: r.code };
  }
}

function procStatus(pid: number): Record<string, string> {
  const f: Record<string, string> = {};
  for (const l of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^([A-Za-z_]+):\s*(.*)$/.exec(l);
    if (m) f[m[1]!] = m[2]!;
  }
  return f;
}

/** Running agent daemons: node running the installed bundle's `agent` command. */
function agentPids(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.startsWith('/usr/bin/node ') && cmd.includes('/usr/lib/x0tta6bl4/x0tta6bl4.mjs agent') && procStatus(Number(d)).State?.[0] !== 'Z') pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function waitFor<T>(what: string, check: () => T | undefined | false, seconds: number): Promise<T | undefined> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      log(`gave up waiting for ${what}`);
      (report.timeouts = (report.timeouts as string[] | undefined) ?? []) && (report.timeouts as string[]).push(what);
      return undefined;
    }
    await sleep(1000);
  }
}

type Journal = { id: number; action: string; state: string; target: { ifname?: string }; finding?: string; reason?: string; outcome?: string | null; atMs: number; updatedMs: number }[];
const status = () => json('x0tta6bl4 status --json') as { mesh?: unknown; links?: unknown; healing?: { journal?: Journal } } & Record<string, unknown>;

async function boot(): Promise<void> {
  report.uptimeAtCheck = uptime();
  report.pid1 = { cmdline: readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean), comm: readFileSync('/proc/1/comm', 'utf8').trim() };
  report.modules = ['batman_adv', 'veth', 'sch_netem', 'nf_tables'].filter((m) => sh(`test -d /sys/module/${m}`).code === 0);
  report.batmanVersion = sh('cat /sys/module/batman_adv/version').out.trim();
  report.rcd = sh('ls /etc/rc.d').out.split('\n').filter(Boolean);
  report.passwd = sh('grep ^x0tta6bl4: /etc/passwd').out.trim();
  const pid = await waitFor('the agent process', () => agentPids()[0], 120);
  report.serviceList = json(`ubus call service list '{"name":"x0tta6bl4"}'`);
  if (pid) {
    const s = procStatus(pid);
    report.agent = { pid, ppid: Number(s.PPid), parentCmdline: sh(`tr '\\0' ' ' < /proc/${s.PPid}/cmdline`).out.trim(), Uid: s.Uid, Gid: s.Gid, CapEff: s.CapEff, CapPrm: s.CapPrm, CapBnd: s.CapBnd, CapAmb: s.CapAmb, NoNewPrivs: s.NoNewPrivs };
    // The netlink bridge the agent runs (its child), with the capability it inherited.
    const kids = sh(`cat /proc/${pid}/task/*/children`).out.trim().split(/\s+/).filter(Boolean).map(Number);
    report.agentChildren = kids.map((k) => {
      try {
        const c = procStatus(k);
        return { pid: k, cmdline: readFileSync(`/proc/${k}/cmdline`, 'utf8').split('\0').join(' ').trim(), Uid: c.Uid, CapEff: c.CapEff };
      } catch {
        return { pid: k, gone: true };
      }
    });
  }
  save('boot');
}

async function batman(): Promise<void> {
  // Until the jailed agent has seen n2 through batman-adv (its /status, read over the status socket).
  const seen = await waitFor('n2 in the agent\'s /status', () => JSON.stringify(status().mesh ?? null).includes(MESH.peerMac), 120);
  report.statusSeesPeer = Boolean(seen);
  const st = status();
  report.status = { node: st.node, health: st.health, mesh: st.mesh, links: st.links };
  report.meshOriginators = sh('x0tta6bl4 mesh originators').out;
  report.meshNeighbours = sh('x0tta6bl4 mesh neighbours').out;
  report.batctlOriginators = sh('batctl meshif bat0 originators').out;
  report.ipLink = sh(`ip -d link show dev ${MESH.link}`).out;
  save('batman');
}

async function heal(): Promise<void> {
  const before = new Set((status().healing?.journal ?? []).map((e) => e.id));
  report.journalBefore = status().healing?.journal ?? [];
  // The link dies: 100 % loss both ways (egress netem on both ends). batman-adv alone keeps
  // the dead neighbour for a while; the agent restarts the interface (nobody else is on it).
  sh(`tc qdisc replace dev ${MESH.link} root netem loss 100%`);
  sh(`tc -n ${MESH.peerNetns} qdisc replace dev ${MESH.peerLink} root netem loss 100%`);
  report.cutAtUptime = uptime();
  const restart = await waitFor('a restart-interface of the dead link, finished', () => (status().healing?.journal ?? []).find((e) => !before.has(e.id) && e.action === 'restart-interface' && e.target.ifname === MESH.link && e.state !== 'applying'), 150);
  report.healedAtUptime = uptime();
  report.restart = restart ?? null;
  const st = status();
  report.journalAfter = st.healing?.journal ?? [];
  report.findingsAfter = (st.healing as { findings?: unknown } | undefined)?.findings ?? null;
  report.linkAfter = sh(`ip -s link show dev ${MESH.link}`).out;
  report.neighboursAfterCut = sh('batctl meshif bat0 neighbours').out;
  // The link comes back: the neighbour is heard again on the restarted interface.
  sh(`tc qdisc del dev ${MESH.link} root; tc -n ${MESH.peerNetns} qdisc del dev ${MESH.peerLink} root`);
  const back = await waitFor('n2 heard again', () => sh('batctl meshif bat0 neighbours -H').out.includes(MESH.peerMac), 60);
  report.peerBack = Boolean(back);
  save('heal');
}

try {
  await boot();
  await batman();
  await heal();
} catch (e) {
  report.error = (e as Error).stack ?? String(e);
  save('error');
}
report.agentLogTail = sh('dmesg | grep -i x0tta6bl4 | tail -n 40').out;
save('done');
