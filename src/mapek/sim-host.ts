// The host commands the actions run (ip, nft, wifi, reboot), answered by a simulated node:
// the same command lines as on a router, so the simulator tests exercise the actions' real
// code paths without root. Only the lines our actions write are understood; anything else
// fails as an unknown command would.
import type { SimulatedMesh } from '../mesh/simulator/index.ts';
import type { CommandResult, CommandRunner } from './command-runner.ts';
import type { CounterReader } from './monitor.ts';
import { NFT_TABLE } from './actions/quarantine.ts';

export interface SimulatedHost {
  run: CommandRunner;
  counters: CounterReader;
  /** Virtual time passes while an action waits. */
  sleep: (ms: number) => Promise<void>;
  /** Every command run, for tests. */
  readonly log: string[][];
  reboots: number;
}

const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
const fail = (stderr: string, code = 1): CommandResult => ({ code, stdout: '', stderr });

export function simulatedHost(world: SimulatedMesh, node: number): SimulatedHost {
  const chains = new Map<string, { ifname: string; mac: string | null }>();
  const host: SimulatedHost = {
    log: [],
    reboots: 0,
    sleep: async (ms) => world.step(ms),
    counters: async (ifname) => {
      const c = world.interfaceCounters(node, ifname);
      return { rxPackets: c.rxPackets, txPackets: c.txPackets, rxErrors: c.rxErrors, txErrors: c.txErrors, rxDropped: c.rxDropped, txDropped: c.txDropped };
    },
    run: async (argv, opts = {}) => {
      host.log.push([...argv]);
      const [cmd, ...args] = argv;
      if (cmd === 'ip' && args[0] === 'link' && args[1] === 'set' && args[2] === 'dev' && (args[4] === 'up' || args[4] === 'down')) {
        if (!world.ifnames.includes(args[3]!)) return fail(`Cannot find device "${args[3]}"`);
        world.setInterfaceUp(node, args[3]!, args[4] === 'up');
        return ok();
      }
      if (cmd === 'test' && args[0] === '-x') return args[1] === '/sbin/wifi' ? ok() : fail('');
      if (cmd === '/sbin/wifi' && args[0] === 'reload') {
        for (const i of world.ifnames) world.setInterfaceUp(node, i, false);
        for (const i of world.ifnames) world.setInterfaceUp(node, i, true);
        return ok();
      }
      if (cmd === 'reboot') {
        host.reboots++;
        return ok();
      }
      if (cmd === 'nft' && args[0] === '-f' && args[1] === '-') return nftScript(opts.input ?? '');
      if (cmd === 'nft' && args[0] === 'list' && args[1] === 'chain' && args[3] === NFT_TABLE) {
        const c = chains.get(args[4]!);
        if (!c) return fail(`Error: No such file or directory; did you mean chain ...?`);
        return ok(`table netdev ${NFT_TABLE} {\n\tchain ${args[4]} {\n${c.mac ? `\t\tether saddr ${c.mac} ether type 0x4305 counter packets 0 bytes 0 drop\n` : ''}\t}\n}\n`);
      }
      return fail(`${cmd}: not found`, 127);
    },
  };

  // Transactional like nft: every line is checked first, then all are applied.
  function nftScript(script: string): CommandResult {
    const ops: (() => void)[] = [];
    for (const line of script.split('\n').map((l) => l.trim()).filter(Boolean)) {
      let m: RegExpMatchArray | null;
      if (line === `add table netdev ${NFT_TABLE}`) continue;
      if ((m = line.match(/^add chain netdev \S+ (\S+) \{ type filter hook ingress device "([^"]+)" priority -?\d+; policy accept; \}$/))) {
        const [, chain, ifname] = m;
        if (!world.ifnames.includes(ifname!)) return fail(`Error: Could not process rule: No such file or directory (device ${ifname})`);
        ops.push(() => chains.has(chain!) || chains.set(chain!, { ifname: ifname!, mac: null }));
      } else if ((m = line.match(/^flush chain netdev \S+ (\S+)$/))) {
        const chain = m[1]!;
        ops.push(() => {
          const c = chains.get(chain);
          if (c?.mac) world.unblockNeighbour(node, c.ifname, c.mac);
          if (c) c.mac = null;
        });
      } else if ((m = line.match(/^add rule netdev \S+ (\S+) ether saddr ([0-9a-f:]{17}) ether type 0x4305 counter drop$/))) {
        const [, chain, mac] = m;
        ops.push(() => {
          const c = chains.get(chain!);
          if (!c) throw new Error(`no chain ${chain}`);
          c.mac = mac!;
          world.blockNeighbour(node, c.ifname, mac!);
        });
      } else if ((m = line.match(/^delete chain netdev \S+ (\S+)$/))) {
        const chain = m[1]!;
        ops.push(() => {
          const c = chains.get(chain);
          if (c?.mac) world.unblockNeighbour(node, c.ifname, c.mac);
          chains.delete(chain);
        });
      } else return fail(`Error: syntax error in: ${line}`);
    }
    try {
      for (const op of ops) op();
    } catch (e) {
      return fail(`Error: ${(e as Error).message}`);
    }
    return ok();
  }
  return host;
}
