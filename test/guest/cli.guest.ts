// Inside the VM: `x0tta6bl4 mesh` (the command itself, opened on a node's namespace) prints
// originators, neighbours and interfaces in batctl's own row formats: read back with the same
// parser as batctl's output, they equal what batctl prints; `mesh set` writes what batctl then reads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError, UserError } from '../../src/cli/command.ts';
import { createMeshCommand } from '../../src/cli/commands/mesh.ts';
import { parseArgs } from '../../src/cli/parse-args.ts';
import { openBatmanDriver } from '../../src/mesh/batman/open-batman-driver.ts';
import { parseInterfaces, parseNeighbours, parseOriginators } from './lib/batctl-parse.ts';
import { GUEST_TIMEOUT_MS, batctl, inNetns, loadMesh, type MeshNodeInfo } from './lib/mesh.ts';

const mesh = loadMesh();

/** Runs `x0tta6bl4 mesh ARGS` against `node`; returns exit code and stdout. */
async function cli(node: MeshNodeInfo, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const cmd = createMeshCommand((meshIfname) => openBatmanDriver({ meshIfname, netns: node.netns, timeoutMs: GUEST_TIMEOUT_MS }));
  const { flags, positionals } = parseArgs([...argv, '--meshif', 'bat0'], cmd.flags, 'mesh');
  let out = '';
  let err = '';
  let code: number;
  try {
    code = await cmd.run({ flags, positionals, io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) }, stopSignal: new Promise(() => {}) });
  } catch (e) {
    // What main.ts does with them: usage mistakes exit 2, other user-facing failures 1.
    if (e instanceof UsageError) code = 2;
    else if (e instanceof UserError) code = 1;
    else throw e;
    err += (e as Error).message;
  }
  return { code, out, err };
}

const originatorKeys = (text: string) => parseOriginators(text).map((o) => `${o.best ? '*' : ' '} ${o.originator} via ${o.nextHop} [${o.ifname}]`).sort();

for (const node of mesh.nodes) {
  test(`${node.name}: mesh originators / neighbours / interfaces --no-header equal batctl's rows`, async () => {
    // Routes are live: a row set that differs is read again (a real difference persists).
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const ours = await cli(node, 'originators', '--no-header');
      assert.is(ours.code, 0, ours.err);
      const a = originatorKeys(ours.out);
      const b = originatorKeys(batctl(node.netns, 'originators', '-H'));
      if (JSON.stringify(a) === JSON.stringify(b) && a.length > 0) break;
      last = `ours ${JSON.stringify(a)} batctl ${JSON.stringify(b)}`;
      assert.ok(attempt < 2, `originators differ: ${last}`);
    }
    const n = await cli(node, 'neighbours', '--no-header');
    assert.is(n.code, 0, n.err);
    const key = (t: string) => parseNeighbours(t).map((x) => `${x.neighbour} [${x.ifname}]`).sort();
    assert.equal(key(n.out), key(batctl(node.netns, 'neighbors', '-H')));
    assert.is(key(n.out).length, node.ifaces.length);
    const i = await cli(node, 'interfaces');
    assert.is(i.code, 0, i.err);
    assert.equal(parseInterfaces(i.out), parseInterfaces(batctl(node.netns, 'interface')));
  });
}

test('mesh set writes through to the kernel: batctl reads it back; --json settings read batctl writes', async () => {
  const node = mesh.nodes[0]!;
  const hardif = node.ifaces[0]!.ifname;
  try {
    const r = await cli(node, 'set', 'hop_penalty', '44');
    assert.is(r.code, 0, r.err);
    assert.is(batctl(node.netns, 'hop_penalty').trim(), '44');
    const h = await cli(node, 'set', '--hardif', hardif, 'hop_penalty', '9');
    assert.is(h.code, 0, h.err);
    assert.is(inNetns(node.netns, 'batctl', 'hardif', hardif, 'hop_penalty').trim(), '9');
    batctl(node.netns, 'orig_interval', '1234');
    const s = await cli(node, 'settings', '--json');
    assert.is(s.code, 0, s.err);
    assert.is((JSON.parse(s.out) as { origIntervalMs: number }).origIntervalMs, 1234);
    const bad = await cli(node, 'set', 'hop_penalty', '300');
    assert.is(bad.code, 2, 'a value out of range is a usage error');
  } finally {
    batctl(node.netns, 'hop_penalty', '30');
    batctl(node.netns, 'orig_interval', String(mesh.origIntervalMs));
    inNetns(node.netns, 'batctl', 'hardif', hardif, 'hop_penalty', '0');
  }
});

test.run();
