// The quarantine action against the real nftables in a throw-away network namespace (root):
// its script loads, its rule drops batman-adv frames (ethertype 0x4305) from the quarantined
// neighbour only (the rule's counter counts them), and release removes it, also when repeated.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ACTIONS, type ActionContext } from '../../src/mapek/actions/index.ts';
import { NFT_TABLE, quarantineChain } from '../../src/mapek/actions/quarantine.ts';
import { systemRunner, type CommandRunner } from '../../src/mapek/command-runner.ts';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const isRoot = process.getuid?.() === 0;
const missing = [!isRoot && 'root', !have('nft') && 'nft', !have('ip') && 'ip', !have('python3') && 'python3'].filter(Boolean);
if (missing.length && process.env.CI === 'true') throw new Error(`quarantine-nft needs ${missing.join(', ')} in CI`);

const ns = `x0q${process.pid}`;
const sh = (argv: string[]) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const inNs: CommandRunner = (argv, o) => systemRunner(['ip', 'netns', 'exec', ns, ...argv], o);
const ctx = { run: inNs, sleep: async () => {} } as unknown as ActionContext;
const neighbour = '02:00:00:00:00:aa';
const other = '02:00:00:00:00:bb';
const target = { ifname: 'mesh0', neighbour };

/** Sends one frame out of peer0 (arriving at mesh0) with the given source MAC and ethertype. */
function send(src: string, ethertype: number): void {
  const py = `import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("peer0", 0))
dst = bytes.fromhex(open("/sys/class/net/mesh0/address").read().strip().replace(":", ""))
s.send(dst + bytes.fromhex("${src.replaceAll(':', '')}") + (${ethertype}).to_bytes(2, "big") + bytes(46))`;
  sh(['ip', 'netns', 'exec', ns, 'python3', '-c', py]);
}
const dropCount = () => {
  const out = sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'chain', 'netdev', NFT_TABLE, quarantineChain(target)]);
  return Number(/counter packets (\d+)/.exec(out)?.[1] ?? NaN);
};

if (missing.length) {
  test(`quarantine with nftables (skipped outside CI: no ${missing.join(', ')})`, () => {});
} else {
  test.before(() => {
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', '-n', ns, 'link', 'add', 'mesh0', 'type', 'veth', 'peer', 'name', 'peer0']);
    sh(['ip', '-n', ns, 'link', 'set', 'mesh0', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'peer0', 'up']);
  });
  test.after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  test('quarantine: the chain is installed, checked, and drops only 0x4305 from that neighbour', async () => {
    const a = ACTIONS.quarantine;
    const state = await a.prepare(ctx, target);
    await a.apply(ctx, target);
    assert.is(await a.check(ctx, target, state), null);
    send(neighbour, 0x4305);
    send(neighbour, 0x4305);
    send(neighbour, 0x0800); // not batman-adv
    send(other, 0x4305); // another neighbour
    assert.is(dropCount(), 2);
    // Applying twice leaves one rule, not two.
    await a.apply(ctx, target);
    const rules = sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'chain', 'netdev', NFT_TABLE, quarantineChain(target)]).match(/drop/g) ?? [];
    assert.is(rules.length, 1);
  });

  test('release removes the chain, and a second release (after a reboot cleared it) still succeeds', async () => {
    const a = ACTIONS.quarantine;
    await a.revert!(ctx, target, {});
    const check = await a.check(ctx, target, null);
    assert.ok(check !== null && /exited/.test(check), String(check));
    await a.revert!(ctx, target, {});
    assert.not.match(sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'netdev', NFT_TABLE]), 'chain q-');
  });

  test('nft missing from the router: a clear error, no crash', async () => {
    const noNft = { ...ctx, run: ((argv, o) => systemRunner([`/nonexistent/${argv[0]}`, ...argv.slice(1)], o)) as CommandRunner };
    try {
      await ACTIONS.quarantine.apply(noNft, target);
      assert.unreachable('should fail');
    } catch (e) {
      assert.match((e as Error).message, /^nft -f - exited 127: .*ENOENT/, (e as Error).message);
    }
  });
}

test('bad targets are refused before any command line is built', async () => {
  for (const t of [{ ifname: 'mesh0; reboot', neighbour }, { ifname: 'mesh0', neighbour: 'aa:bb' }, { ifname: 'mesh0"', neighbour }]) {
    try {
      await ACTIONS.quarantine.prepare(ctx, t);
      assert.unreachable(JSON.stringify(t));
    } catch (e) {
      assert.match((e as Error).message, /^not an? (interface name|MAC address)/);
    }
  }
});

test.run();
