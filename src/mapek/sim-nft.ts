// nftables as the simulated host answers it: the netdev chains the quarantine and steer-neighbour
// actions write, one dropped (or partly dropped) neighbour each, applied to the simulated world. Only the lines that action writes are
// understood; anything else is a syntax error, as nft would say.
import type { SimulatedMesh } from '../mesh/simulator/index.ts';
import type { CommandResult } from './command-runner.ts';
import { NFT_TABLE } from './actions/quarantine.ts';

export const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
export const fail = (stderr: string, code = 1): CommandResult => ({ code, stdout: '', stderr });

export class SimulatedNft {
  private readonly chains = new Map<string, { ifname: string; mac: string | null; pct?: number }>();

  constructor(
    private readonly world: SimulatedMesh,
    private readonly node: number,
  ) {}

  /** `nft list chain netdev <table> <chain>`. */
  listChain(chain: string): CommandResult {
    const c = this.chains.get(chain);
    if (!c) return fail(`Error: No such file or directory; did you mean chain ...?`);
    const rule = c.pct === undefined ? 'counter packets 0 bytes 0 drop' : `@ll,112,8 0x00 numgen random mod 100 < ${c.pct} counter packets 0 bytes 0 drop`;
    return ok(`table netdev ${NFT_TABLE} {\n\tchain ${chain} {\n${c.mac ? `\t\tether saddr ${c.mac} ether type 0x4305 ${rule}\n` : ''}\t}\n}\n`);
  }

  /** `nft -f -`: transactional like nft, every line is checked first, then all are applied. */
  script(script: string): CommandResult {
    const ops: (() => void)[] = [];
    for (const line of script.split('\n').map((l) => l.trim()).filter(Boolean)) {
      if (line === `add table netdev ${NFT_TABLE}`) continue;
      const op = this.parse(line);
      if (typeof op !== 'function') return op;
      ops.push(op);
    }
    try {
      for (const op of ops) op();
    } catch (e) {
      return fail(`Error: ${(e as Error).message}`);
    }
    return ok();
  }

  /** One line as the change it makes, or nft's error. */
  private parse(line: string): (() => void) | CommandResult {
    const { world, node, chains } = this;
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^add chain netdev \S+ (\S+) \{ type filter hook ingress device "([^"]+)" priority -?\d+; policy accept; \}$/))) {
      const [, chain, ifname] = m;
      if (!world.ifnames.includes(ifname!)) return fail(`Error: Could not process rule: No such file or directory (device ${ifname})`);
      return () => chains.has(chain!) || chains.set(chain!, { ifname: ifname!, mac: null });
    }
    if ((m = line.match(/^flush chain netdev \S+ (\S+)$/))) {
      const chain = m[1]!;
      return () => {
        const c = chains.get(chain);
        if (c) this.release(c);
      };
    }
    if ((m = line.match(/^add rule netdev \S+ (\S+) ether saddr ([0-9a-f:]{17}) ether type 0x4305 counter drop$/))) {
      const [, chain, mac] = m;
      return () => {
        const c = chains.get(chain!);
        if (!c) throw new Error(`no chain ${chain}`);
        c.mac = mac!;
        world.blockNeighbour(node, c.ifname, mac!);
      };
    }
    if ((m = line.match(/^add rule netdev \S+ (\S+) ether saddr ([0-9a-f:]{17}) ether type 0x4305 @ll,112,8 0 numgen random mod 100 < (\d+) counter drop$/))) {
      const [, chain, mac, pct] = m;
      return () => {
        const c = chains.get(chain!);
        if (!c) throw new Error(`no chain ${chain}`);
        this.release(c);
        c.mac = mac!;
        c.pct = Number(pct);
        world.steerNeighbour(node, c.ifname, mac!, c.pct);
      };
    }
    if ((m = line.match(/^delete chain netdev \S+ (\S+)$/))) {
      const chain = m[1]!;
      return () => {
        const c = chains.get(chain);
        if (c) this.release(c);
        chains.delete(chain);
      };
    }
    return fail(`Error: syntax error in: ${line}`);
  }

  /** Undoes what a chain's rule does in the world. */
  private release(c: { ifname: string; mac: string | null; pct?: number }): void {
    if (c.mac && c.pct !== undefined) this.world.steerNeighbour(this.node, c.ifname, c.mac, 0);
    else if (c.mac) this.world.unblockNeighbour(this.node, c.ifname, c.mac);
    c.mac = null;
    delete c.pct;
  }
}
