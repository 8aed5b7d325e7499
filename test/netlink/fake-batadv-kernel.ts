// A small stand-in for the kernel side of batman-adv's netlink API, for host tests only (the
// host kernel has no batman-adv). Replies are hand-built from the layouts in batman_adv.h and
// net/batman-adv/*.c, in the kernel's units (100 kbit/s for gateway bandwidth and BATMAN_V
// gateway throughput), so unit normalisation in the driver is really tested. The real
// kernel is tested in test/guest/batadv-*.guest.ts.
import { FakeLink, type Request } from './fake-link.ts';
import { ackMsg, attr, cstr, doneMsg, errorMsg, genl, mac, nest, nlmsg, readAttrs, u16, u32, u8, NLM_F_MULTI } from './wire.ts';

export const FAMILY_ID = 0x1c;
export const CONFIG_GROUP = 9;
const PID = 777;

export interface FakeOriginator {
  orig: string;
  neigh: string;
  ifindex: number;
  ifname?: string;
  lastSeen: number;
  best?: boolean;
  metric: number; // TQ (IV) or kbit/s (V)
}
export interface FakeGateway {
  orig: string;
  router: string;
  ifname: string;
  ifindex?: number;
  best?: boolean;
  down: number; // 100 kbit/s
  up: number;
  metric: number; // TQ (IV) or 100 kbit/s (V)
}

export class FakeBatadvKernel {
  readonly genl: FakeLink;
  readonly route: FakeLink;
  moduleLoaded = true;
  algo: 'BATMAN_IV' | 'BATMAN_V' = 'BATMAN_IV';
  links = new Map<string, { index: number; kind?: string }>([
    ['lo', { index: 1 }],
    ['eth0', { index: 2, kind: 'veth' }],
    ['bat0', { index: 5, kind: 'batadv' }],
  ]);
  hardifs = [
    { index: 2, name: 'eth0', mac: '02:00:00:00:00:02', active: true, hopPenalty: 0, elp: 500, override: 0 },
  ];
  /** Mesh settings as the kernel stores them (attribute number -> value). */
  settings = new Map<number, number>([
    [41, 1], [42, 0], [43, 0], [44, 0], [45, 0], [46, 1], [47, 1], [48, 1],
    [49, 100], [50, 20], [51, 0], [52, 20], [53, 30], [54, 0], [55, 0], [57, 1000], [60, 16],
  ]);
  primaryActive = true;
  originators: FakeOriginator[] = [];
  neighbours: Array<{ neigh: string; ifindex: number; lastSeen: number; throughput?: number }> = [];
  gateways: FakeGateway[] = [];
  /** errno to answer a batadv command with (NLMSG_ERROR), e.g. EPERM for admin commands. */
  refuse = new Map<number, number>();
  sentGenl: Request[] = [];

  constructor() {
    this.genl = new FakeLink((r) => this.onGenl(r));
    this.route = new FakeLink((r) => this.onRoute(r));
  }

  private onRoute(r: Request): Buffer[] {
    const a = readAttrs(r.payload.subarray(16));
    const index = r.payload.readInt32LE(4);
    const name = a.get(3)?.subarray(0, -1).toString();
    const entry = [...this.links].find(([n, l]) => (name !== undefined ? n === name : l.index === index));
    if (!entry) return [errorMsg(r.seq, PID, 19, r)];
    const [n, l] = entry;
    const ifinfo = Buffer.alloc(16);
    ifinfo.writeInt32LE(l.index, 4);
    ifinfo.writeUInt32LE(1, 8);
    const info = l.kind ? nest(18, attr(1, cstr(l.kind))) : Buffer.alloc(0);
    return [Buffer.concat([nlmsg(16, 0, r.seq, PID, Buffer.concat([ifinfo, attr(3, cstr(n)), attr(4, u32(1500)), info])), ackMsg(r.seq, PID, r)])];
  }

  private onGenl(r: Request): Buffer[] {
    if (r.type === 0x10) {
      if (!this.moduleLoaded) return [errorMsg(r.seq, PID, 2, r)];
      const fam = genl(
        1,
        2,
        attr(2, cstr('batadv')),
        attr(1, u16(FAMILY_ID)),
        attr(3, u32(1)),
        attr(4, u32(0)),
        attr(5, u32(60)),
        nest(7, nest(1, attr(2, u32(CONFIG_GROUP)), attr(1, cstr('config'))), nest(2, attr(2, u32(10)), attr(1, cstr('tpmeter')))),
      );
      return [Buffer.concat([nlmsg(0x10, 0, r.seq, PID, fam), ackMsg(r.seq, PID, r)])];
    }
    if (r.type !== FAMILY_ID) return [errorMsg(r.seq, PID, 2, r)];
    this.sentGenl.push(r);
    const cmd = r.payload[0]!;
    const a = readAttrs(r.payload.subarray(4));
    const meshIndex = a.get(3)?.readUInt32LE(0);
    const dump = (r.flags & 0x300) === 0x300;
    const fail = (errno: number) => [dump ? doneMsg(r.seq, PID, -errno) : errorMsg(r.seq, PID, errno, r)];
    if (this.refuse.has(cmd)) return [errorMsg(r.seq, PID, this.refuse.get(cmd)!, r)];
    if (cmd !== 4) {
      if (meshIndex === undefined) return fail(dump ? 64 : 22);
      const mesh = [...this.links.values()].find((l) => l.index === meshIndex);
      if (!mesh) return fail(19);
      if (mesh.kind !== 'batadv') return fail(22);
    }
    const reply = (c: number, ...attrs: Buffer[]) => nlmsg(FAMILY_ID, dump ? NLM_F_MULTI : 0, r.seq, PID, genl(c, 1, ...attrs));
    const finish = (msgs: Buffer[]) => [Buffer.concat([...msgs, dump ? doneMsg(r.seq, PID) : ackMsg(r.seq, PID, r)])];
    switch (cmd) {
      case 1:
        return finish([reply(1, ...this.meshAttrs())]);
      case 5: {
        const want = a.get(6)?.readUInt32LE(0);
        const rows = this.hardifs.filter((h) => want === undefined || h.index === want);
        if (!dump && rows.length === 0) return fail(22);
        return finish(rows.map((h) => reply(5, ...this.hardifAttrs(h))));
      }
      case 8:
        if (!this.primaryActive) return fail(2);
        return finish(
          this.originators.map((o) =>
            reply(
              8,
              attr(9, mac(o.orig)),
              attr(24, mac(o.neigh)),
              attr(6, u32(o.ifindex)),
              ...(o.ifname ? [attr(7, cstr(o.ifname))] : []),
              attr(23, u32(o.lastSeen)),
              this.algo === 'BATMAN_IV' ? attr(25, u8(o.metric)) : attr(26, u32(o.metric)),
              ...(o.best ? [attr(22)] : []),
            ),
          ),
        );
      case 9:
        if (!this.primaryActive) return fail(2);
        return finish(
          this.neighbours.map((n) =>
            reply(9, attr(24, mac(n.neigh)), attr(6, u32(n.ifindex)), attr(23, u32(n.lastSeen)), ...(n.throughput !== undefined ? [attr(26, u32(n.throughput))] : [])),
          ),
        );
      case 10:
        if (!this.primaryActive) return fail(2);
        return finish(
          this.gateways.map((g) =>
            reply(
              10,
              ...(g.best ? [attr(22)] : []),
              attr(9, mac(g.orig)),
              this.algo === 'BATMAN_IV' ? attr(25, u8(g.metric)) : attr(26, u32(g.metric)),
              attr(29, mac(g.router)),
              attr(7, cstr(g.ifname)),
              ...(g.ifindex !== undefined ? [attr(6, u32(g.ifindex))] : []),
              attr(28, u32(g.down)),
              attr(27, u32(g.up)),
            ),
          ),
        );
      case 15: {
        for (const [t, v] of a) if (t !== 3) this.settings.set(t, v.length === 1 ? v[0]! : v.readUInt32LE(0));
        // The kernel multicasts the full settings on `config` after every SET_MESH (seq 0, pid 0).
        const event = nlmsg(FAMILY_ID, 0, 0, 0, genl(15, 1, ...this.meshAttrs()));
        return [ackMsg(r.seq, PID, r), event];
      }
      case 16: {
        const h = this.hardifs.find((x) => x.index === a.get(6)?.readUInt32LE(0));
        if (!h) return fail(22);
        if (a.has(53)) h.hopPenalty = a.get(53)![0]!;
        if (a.has(58)) h.elp = a.get(58)!.readUInt32LE(0);
        if (a.has(59)) h.override = a.get(59)!.readUInt32LE(0);
        return [ackMsg(r.seq, PID, r)];
      }
      default:
        return fail(95);
    }
  }

  meshAttrs(): Buffer[] {
    const out = [attr(1, cstr('2022.3')), attr(2, cstr(this.algo)), attr(3, u32(5)), attr(4, cstr('bat0')), attr(5, mac('02:00:00:00:00:05')), attr(17, u8(3))];
    const primary = this.hardifs[0];
    if (primary && this.primaryActive) out.push(attr(6, u32(primary.index)), attr(7, cstr(primary.name)), attr(8, mac(primary.mac)));
    const u8s = new Set([41, 42, 45, 46, 47, 48, 51, 53, 55]);
    for (const [t, v] of this.settings) out.push(attr(t, u8s.has(t) ? u8(v) : u32(v)));
    return out;
  }

  hardifAttrs(h: FakeBatadvKernel['hardifs'][number]): Buffer[] {
    return [
      attr(3, u32(5)),
      attr(4, cstr('bat0')),
      attr(6, u32(h.index)),
      attr(7, cstr(h.name)),
      attr(8, mac(h.mac)),
      ...(h.active ? [attr(15)] : []),
      attr(53, u8(h.hopPenalty)),
      attr(58, u32(h.elp)),
      attr(59, u32(h.override)),
    ];
  }
}
