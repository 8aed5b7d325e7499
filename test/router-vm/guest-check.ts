// Runs inside the router VM (bundled, started by the S99 boot script as root once procd has run
// every boot script). It only gathers what the kernel, procd and the agent say, into
// /x0vm/report.json (rewritten after every phase, so a hang still leaves what came before);
// router-vm.test.ts on the host judges it. Phases: PID 1 and the agent's process as procd
// started it; real batman-adv data from the jailed agent; a dead link the agent heals.
import { execFileSync, spawn } from 'node:child_process';
import { get } from 'node:http';
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

/** Netlink bridge processes (the agent's helper that talks to batman-adv), with their parent, user and capabilities. */
function bridges(): { pid: number; ppid: number; cmdline: string; Uid?: string; CapEff?: string }[] {
  const out = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (!cmdline.includes('x0tta6bl4-nlbridge')) continue;
      const s = procStatus(Number(d));
      out.push({ pid: Number(d), ppid: Number(s.PPid), cmdline, Uid: s.Uid, CapEff: s.CapEff });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, seconds: number): Promise<T | undefined> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check();
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
type Status = { node?: unknown; health?: unknown; mesh?: unknown; links?: unknown; healing?: { journal?: Journal; findings?: unknown } };
const SOCKET = '/var/run/x0tta6bl4/status.sock';

/** The agent's /status straight from its socket: the CLI (a node start each) costs seconds under TCG. */
function status(): Promise<Status> {
  return new Promise((resolve) => {
    const req = get({ socketPath: SOCKET, path: '/status', timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as Status);
        } catch {
          resolve({});
        }
      });
    });
    req.on('error', () => resolve({}));
    req.on('timeout', () => req.destroy());
  });
}

async function boot(): Promise<void> {
  report.uptimeAtCheck = uptime();
  report.pid1 = { cmdline: readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean), comm: readFileSync('/proc/1/comm', 'utf8').trim() };
  report.modules = ['batman_adv', 'veth', 'nf_tables'].filter((m) => sh(`test -d /sys/module/${m}`).code === 0);
  report.batmanVersion = sh('cat /sys/module/batman_adv/version').out.trim();
  report.rcd = sh('ls /etc/rc.d').out.split('\n').filter(Boolean);
  report.passwd = sh('grep ^x0tta6bl4: /etc/passwd').out.trim();
  const pid = await waitFor('the agent process', () => agentPids()[0], 120);
  report.serviceList = json(`ubus call service list '{"name":"x0tta6bl4"}'`);
  if (pid) {
    const s = procStatus(pid);
    report.agent = { pid, ppid: Number(s.PPid), parentCmdline: sh(`tr '\\0' ' ' < /proc/${s.PPid}/cmdline`).out.trim(), Uid: s.Uid, Gid: s.Gid, CapEff: s.CapEff, CapPrm: s.CapPrm, CapBnd: s.CapBnd, CapAmb: s.CapAmb, NoNewPrivs: s.NoNewPrivs };
  }
  save('boot');
}

async function batman(): Promise<void> {
  // Until the jailed agent has seen n2 through batman-adv (its /status, read over the status socket).
  const seen = await waitFor('n2 in the agent\'s /status', async () => JSON.stringify((await status()).mesh ?? null).includes(MESH.peerMac), 120);
  report.statusSeesPeer = Boolean(seen);
  const st = await status();
  report.status = { node: st.node, health: st.health, mesh: st.mesh, links: st.links };
  // The same through the CLI as an operator types it (once: each is a node start).
  report.cliStatus = json('x0tta6bl4 status --json');
  report.bridges = bridges();
  report.meshOriginators = sh('x0tta6bl4 mesh originators').out;
  report.meshNeighbours = sh('x0tta6bl4 mesh neighbours').out;
  report.batctlOriginators = sh('batctl meshif bat0 originators').out;
  report.ipLink = sh(`/usr/sbin/ip -d link show dev ${MESH.link}`).out;
  save('batman');
}

async function heal(): Promise<void> {
  // The kernel's own record of the interface going down and up, whoever does it.
  const monitor = spawn('/usr/sbin/ip', ['-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let monitored = '';
  monitor.stdout.on('data', (d: Buffer) => (monitored += d.toString()));
  report.journalBefore = (await status()).healing?.journal ?? [];
  const before = new Set((report.journalBefore as Journal).map((e) => e.id));
  // The link dies: nftables drops batman-adv's frames (ethertype 0x4305) at the ingress of both
  // ends. Frames still arrive (the interface counters move, nothing is stuck), but no OGM gets
  // through: batman-adv alone keeps the dead neighbour for a while; the agent restarts the
  // interface, on which nobody else is heard.
  for (const [ns, dev] of [['', MESH.link], [MESH.peerNetns, MESH.peerLink]] as const) {
    const nft = ns ? `/usr/sbin/ip netns exec ${ns} /usr/sbin/nft` : '/usr/sbin/nft';
    const r = sh(`${nft} add table netdev x0vmcut && ${nft} add chain netdev x0vmcut in '{ type filter hook ingress device ${dev} priority 0; }' && ${nft} add rule netdev x0vmcut in ether type 0x4305 counter drop`);
    if (r.code !== 0) throw new Error(`nft cut on ${dev}: ${r.out}`);
  }
  report.cutAtUptime = uptime();
  const restart = await waitFor('a restart-interface of the dead link, finished', async () => ((await status()).healing?.journal ?? []).find((e) => !before.has(e.id) && e.action === 'restart-interface' && e.target.ifname === MESH.link && e.state !== 'applying'), 150);
  report.healedAtUptime = uptime();
  report.restart = restart ?? null;
  // The loop's mesh-wide answer to the instability (a lower orig_interval, written over netlink
  // by the jailed agent), as the kernel has it now.
  report.origIntervalDuring = sh('batctl meshif bat0 orig_interval').out.trim();
  report.origIntervalEntry = ((await status()).healing?.journal ?? []).find((e) => !before.has(e.id) && e.action === 'orig-interval') ?? null;
  await sleep(1000);
  monitor.kill();
  report.linkEvents = monitored.split('\n').filter((l) => l.includes(`${MESH.link}@`) || l.includes(`${MESH.link}:`));
  const after = await status();
  report.journalAfter = after.healing?.journal ?? [];
  report.findingsAfter = after.healing?.findings ?? null;
  report.linkAfter = sh(`/usr/sbin/ip -s link show dev ${MESH.link}`).out;
  report.neighboursAfterCut = sh('batctl meshif bat0 n').out;
  // The link comes back: the neighbour is heard again on the restarted interface.
  report.cutRules = sh(`/usr/sbin/nft list table netdev x0vmcut`).out;
  sh(`/usr/sbin/nft delete table netdev x0vmcut; /usr/sbin/ip netns exec ${MESH.peerNetns} /usr/sbin/nft delete table netdev x0vmcut`);
  const back = await waitFor('n2 heard again', () => sh('batctl meshif bat0 n -H').out.includes(MESH.peerMac), 60);
  report.peerBack = Boolean(back);
  // How the loop judged its restart once the link is back (its commit-confirm window).
  if (restart) {
    const done = await waitFor('the restart judged', async () => ((await status()).healing?.journal ?? []).find((e) => e.id === restart.id && e.state !== 'verifying'), 40);
    report.restartFinal = done ?? null;
  }
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
report.syslogd = sh('pidof syslogd').out.trim();
save('done');
