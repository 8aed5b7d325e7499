// Optional reachability probe of the selected gateway: a batman-adv layer-2 ping
// (`batctl meshif <mesh> ping`) to the gateway's originator, through the host runner. batman-adv
// keeps a selected gateway whose OGMs still arrive even when unicast to it is lost (asymmetric
// links, a gateway whose bat0 is wedged); the probe measures what a client's traffic gets.
// Off by default (it sends packets every probe interval): healing.gateway_probe.
import type { CommandRunner } from './command-runner.ts';

export interface ProbeResult {
  ok: boolean;
  /** Mean round trip of the replies, ms; null without replies. */
  rttMs: number | null;
  /** What went wrong, for the finding's evidence and the log. */
  detail: string;
}

export type GatewayProbe = (originator: string) => Promise<ProbeResult>;

/** What the knowledge keeps of the probes (shown in /status healing). */
export interface GatewayProbeState {
  originator: string;
  ok: boolean;
  rttMs: number | null;
  detail: string;
  atMs: number;
  /** Failed probes in a row of this originator. */
  failures: number;
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

export function batctlPingProbe(run: CommandRunner, meshIfname: string, opts: { count?: number; timeoutS?: number } = {}): GatewayProbe {
  const count = opts.count ?? 2;
  const timeoutS = opts.timeoutS ?? 1;
  return async (originator) => {
    const mac = originator.toLowerCase();
    // Only what the kernel gave us goes on the command line, and only if it reads as a MAC.
    if (!MAC.test(mac)) return { ok: false, rttMs: null, detail: `not a MAC address: ${originator}` };
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(meshIfname)) return { ok: false, rttMs: null, detail: `not an interface name: ${meshIfname}` };
    const argv = ['batctl', 'meshif', meshIfname, 'ping', '-c', String(count), '-t', String(timeoutS), mac];
    const r = await run(argv, { timeoutMs: (count * (timeoutS + 1) + 5) * 1000 });
    return parseBatctlPing(r.stdout, r.stderr, r.code);
  };
}

/** batctl ping's summary ("2 packets transmitted, 1 received, 50% packet loss", "rtt min/avg/max/mdev = …"). */
export function parseBatctlPing(stdout: string, stderr: string, code: number): ProbeResult {
  const stats = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  if (!stats) {
    const said = (stderr || stdout).trim().split('\n').slice(-1)[0] ?? '';
    return { ok: false, rttMs: null, detail: `batctl ping exited ${code}${said ? `: ${said}` : ''}` };
  }
  const received = Number(stats[2]);
  const rtt = /rtt min\/avg\/max\/mdev = [\d.]+\/([\d.]+)\//.exec(stdout);
  return {
    ok: received > 0,
    rttMs: received > 0 && rtt ? Number(rtt[1]) : null,
    detail: `${received}/${stats[1]} replies`,
  };
}
