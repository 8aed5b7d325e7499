// An ActionContext for the action tests that have no real part here (the real commands run in
// the VM tests): a driver stand-in with the given hard interfaces (the first the primary one) and
// a command runner that records each command line, failing the one named `fail`.
import type { ActionContext } from '../../src/mapek/actions/action.ts';
import type { HardInterface, MeshDriver } from '../../src/mesh/driver.ts';

export interface StandIn {
  hardifs: Pick<HardInterface, 'ifname' | 'active' | 'hopPenalty'>[];
  kind?: MeshDriver['kind'];
  /** Whether an interface is Wi-Fi; absent: the context has no wireless() (none is). */
  wireless?: boolean;
  fail?: string;
}

export function standInContext(s: StandIn): { ctx: ActionContext; ran: string[] } {
  const ran: string[] = [];
  const hardifs = s.hardifs.map((h, i) => ({ ifindex: i + 2, address: `02:00:00:00:01:0${i}`, ...h }));
  const driver = {
    kind: s.kind ?? 'batman-adv',
    mesh: async () => ({ meshIfname: 'bat0', primaryIfname: hardifs[0]!.ifname }),
    interfaces: async () => hardifs,
    setHardIf: async () => {},
  } as unknown as MeshDriver;
  const ctx: ActionContext = {
    driver, baseline: {} as ActionContext['baseline'], sleep: async () => {}, fastOrigIntervalMs: 100,
    run: async (argv) => {
      const line = argv.join(' ');
      ran.push(line);
      return line === s.fail ? { code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' } : { code: 0, stdout: '', stderr: '' };
    },
    ...(s.wireless === undefined ? {} : { wireless: async () => s.wireless! }),
  };
  return { ctx, ran };
}
