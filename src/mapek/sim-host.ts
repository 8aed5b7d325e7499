// The host commands the actions run (ip, nft, wifi, reboot), answered by a simulated node:
// the same command lines as on a router, so the simulator tests exercise the actions' real
// code paths without root. Only the lines our actions write are understood; anything else
// fails as an unknown command would. nftables is sim-nft.ts.
import type { SimulatedMesh } from '../mesh/simulator/index.ts';
import type { CommandRunner } from './command-runner.ts';
import type { CounterReader } from './monitor.ts';
import { NFT_TABLE } from './actions/quarantine.ts';
import { SimulatedNft, fail, ok } from './sim-nft.ts';

export interface SimulatedHost {
  run: CommandRunner;
  counters: CounterReader;
  /** Virtual time passes while an action waits. */
  sleep: (ms: number) => Promise<void>;
  /** Every command run, for tests. */
  readonly log: string[][];
  reboots: number;
}

export function simulatedHost(world: SimulatedMesh, node: number): SimulatedHost {
  const nft = new SimulatedNft(world, node);
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
      if (cmd === 'nft' && args[0] === '-f' && args[1] === '-') return nft.script(opts.input ?? '');
      if (cmd === 'nft' && args[0] === 'list' && args[1] === 'chain' && args[3] === NFT_TABLE) return nft.listChain(args[4]!);
      return fail(`${cmd}: not found`, 127);
    },
  };
  return host;
}
