// Network namespaces for federation tests (root): namespaces, veth links, a bridge as a shared
// link, federation nodes as child processes inside them (netns-node.ts) and UDP listeners.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FederationSettings } from '../../src/federation/settings.ts';
import type { DiscoveryStatus, FederationHealth, FederationMetrics } from '../../src/federation/types.ts';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
/** What this machine lacks for namespace tests (empty: all there). */
export function missingForNetns(): string[] {
  return [process.getuid?.() !== 0 && 'root', !have('ip') && 'ip'].filter((x): x is string => !!x);
}

export function sh(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || r.error}`);
  return r.stdout;
}

export class Namespaces {
  private readonly made: string[] = [];
  private readonly children = new Set<ChildProcessWithoutNullStreams>();
  constructor(readonly prefix: string) {}

  name(short: string): string {
    return `${this.prefix}${short}`;
  }

  add(short: string): string {
    const ns = this.name(short);
    sh(['ip', 'netns', 'add', ns]);
    this.made.push(ns);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A bridge in `short` with IGMP snooping off: every multicast frame reaches every port. */
  bridge(short: string, br = 'br0'): void {
    const ns = this.name(short);
    sh(['ip', '-n', ns, 'link', 'add', br, 'type', 'bridge', 'mcast_snooping', '0']);
    sh(['ip', '-n', ns, 'link', 'set', br, 'up']);
  }

  /** A veth pair: `a:ifA` with address `cidrA` (or none), `b:ifB`, optionally enslaved to bridge `master`. */
  link(a: string, ifA: string, cidrA: string | null, b: string, ifB: string, cidrB: string | null, master?: string): void {
    const na = this.name(a);
    const nb = this.name(b);
    sh(['ip', '-n', na, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nb]);
    if (cidrA) sh(['ip', '-n', na, 'addr', 'add', cidrA, 'dev', ifA]);
    if (cidrB) sh(['ip', '-n', nb, 'addr', 'add', cidrB, 'dev', ifB]);
    if (master) sh(['ip', '-n', nb, 'link', 'set', ifB, 'master', master]);
    sh(['ip', '-n', na, 'link', 'set', ifA, 'up']);
    sh(['ip', '-n', nb, 'link', 'set', ifB, 'up']);
  }

  /** Runs `node -e code` inside the namespace; returns its stdout. */
  nodeEval(short: string, code: string): string {
    return sh(['ip', 'netns', 'exec', this.name(short), process.execPath, '-e', code]);
  }

  spawn(short: string, argv: string[]): ChildProcessWithoutNullStreams {
    const c = spawn('ip', ['netns', 'exec', this.name(short), ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(c);
    c.on('exit', () => this.children.delete(c));
    c.stderr.on('data', (d: Buffer) => process.env.NETNS_NODE_LOG && process.stderr.write(d));
    return c;
  }

  async cleanup(): Promise<void> {
    await Promise.all(
      [...this.children].map(
        (c) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              c.kill('SIGKILL');
              resolve();
            }, 5000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.stdin.end('stop\n');
          }),
      ),
    );
    for (const ns of this.made.reverse()) spawnSync('ip', ['netns', 'del', ns]);
  }
}

export interface NodeReport {
  peerId: string;
  addresses: string[];
  health: FederationHealth;
  peers: string[];
  discovery: DiscoveryStatus | null;
  metrics: FederationMetrics;
}

/** A federation running in a namespace (netns-node.ts); `report()` asks for a fresh status line. */
export class NsNode {
  private readonly lines: string[] = [];
  private waiters: ((l: string) => void)[] = [];
  private exited: string | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  first!: NodeReport;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('exit', (code) => {
      this.exited = `exited with ${code}: ${err}`;
      for (const w of this.waiters.splice(0)) w('');
    });
  }

  static async start(nss: Namespaces, short: string, settings: FederationSettings): Promise<NsNode> {
    const script = fileURLToPath(new URL('./netns-node.ts', import.meta.url));
    const n = new NsNode(nss.spawn(short, [process.execPath, '--import', 'tsx', script, JSON.stringify(settings)]));
    n.first = await n.next();
    return n;
  }

  private next(): Promise<NodeReport> {
    const l = this.lines.shift();
    const p = l !== undefined ? Promise.resolve(l) : new Promise<string>((r) => this.waiters.push(r));
    return p.then((line) => {
      if (!line) throw new Error(`namespace node ${this.exited ?? 'gave no status'}`);
      return JSON.parse(line) as NodeReport;
    });
  }

  report(): Promise<NodeReport> {
    const r = this.chain.then(() => {
      this.child.stdin.write('?\n');
      return this.next();
    });
    this.chain = r.catch(() => {});
    return r;
  }
}

/** Polls an async condition; fails with `what` (and the last value seen) after `ms`. */
export async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}; last: ${JSON.stringify(v).slice(0, 1500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * A UDP listener on port 5353 inside a namespace that has joined 224.0.0.251 on one address (what
 * OpenWrt's umdns does on the LAN); it prints the source address of every packet it receives.
 */
export class Sniffer {
  readonly from: string[] = [];
  readonly packets: { from: string; data: Buffer }[] = [];
  private constructor() {}
  static async start(nss: Namespaces, short: string, joinOn: string, port = 5353): Promise<Sniffer> {
    const s = new Sniffer();
    const code = `const s=require('dgram').createSocket({type:'udp4',reuseAddr:true});
s.on('message',(m,r)=>process.stdout.write(r.address+' '+m.toString('hex')+'\\n'));
s.bind(${port},()=>{s.addMembership('224.0.0.251',${JSON.stringify(joinOn)});process.stdout.write('ready\\n')});
process.stdin.on('data',()=>{});process.stdin.on('end',()=>process.exit(0));`;
    const c = nss.spawn(short, [process.execPath, '-e', code]);
    await new Promise<void>((resolve, reject) => {
      c.once('exit', (code) => reject(new Error(`sniffer exited with ${code}`)));
      createInterface({ input: c.stdout }).on('line', (l) => {
        if (l === 'ready') return resolve();
        const [from, hex] = l.split(' ') as [string, string];
        s.from.push(from);
        if (s.packets.length < 10_000) s.packets.push({ from, data: Buffer.from(hex, 'hex') });
      });
    });
    return s;
  }
  count(addr: string): number {
    return this.from.filter((a) => a === addr).length;
  }
}
