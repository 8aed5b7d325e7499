// The test:arch cases for one target (targets.ts): the shipped bundle under Debian's own node
// for that CPU, run by qemu-user. Each test/arch/<target>.test.ts runs one target, so that the
// test runner's two workers emulate two targets at once. Each case prints its wall time
// (stderr) so the budget can be watched; nothing asserts on time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errnoTable } from '../../src/netlink/errno.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { Subscriber, exitIfStuck } from '../telemetry/subscriber.ts';
import { meshWithBridge, BUNDLE, cli, component, coreVariantOf, demoWithHealth, fleet } from './bundle-runs.ts';
import { debianNode, QEMU_USER } from './debian-node.ts';
import { expectedCore, TARGETS, type ArchTarget } from './targets.ts';

const SRC = new URL('../../src/', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    process.stderr.write(`test:arch ${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
}

export function runArchSuite(name: string): void {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`no test:arch target ${name}`);
  const t0 = Date.now();
  const found = debianNode(target.suite, target.arch);
  process.stderr.write(`test:arch ${name}: node ${'missing' in found ? 'missing' : `${found.version} (${found.fetched ? 'fetched' : 'cached'})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  if ('missing' in found) {
    if (process.env.CI === 'true') throw new Error(`test:arch ${name}: missing ${found.missing}`);
    test(`${name}: skipped outside CI (missing ${found.missing})`, () => {});
    test.run();
    return;
  }
  const scratch = mkdtempSync(join(tmpdir(), `x0-arch-${name}-`));
  const run: Run = { target, node: found.node, version: found.version, scratch, label: (what) => `${name} (Node ${target.nodeMajor}): ${what}` };
  test.after(() => rmSync(scratch, { recursive: true, force: true }));
  everyTargetCases(run);
  if (target.full) fullCases(run);
  test.after(() => exitIfStuck(`${name}.test.ts`));
  test.run();
}

interface Run {
  target: ArchTarget;
  node: string;
  version: string;
  scratch: string;
  label: (what: string) => string;
}

/** --version, a demo and the core variant: cheap enough for every target. */
function everyTargetCases({ target, node, version, scratch, label }: Run): void {
  test(label('Debian node runs and is the expected version and arch'), async () => {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} missing: run npm run build`);
    const r = spawnSync(node, ['-p', 'process.version + " " + process.arch'], { encoding: 'utf8', timeout: 120_000 });
    assert.is(r.stdout.trim(), `v${version.split('+')[0]} ${target.nodeArch}`, r.stderr);
    assert.ok(version.startsWith(`${target.nodeMajor}.`), version);
  });

  test(label('--version'), async () => {
    const v = await timed(label('--version'), () => cli(node, ['--version'], scratch));
    assert.is(v.code, 0, v.stderr);
    assert.is(v.stdout.trim(), VERSION);
  });

  test(label(`a 5-node demo; the agent loads the ${expectedCore(target)} core`), async () => {
    const d = await timed(label('demo'), () => demoWithHealth(node, scratch));
    assert.is(d.code, 0, d.output);
    assert.match(d.output, /demo stopped/);
    assert.not.match(d.output, /Error|\n\s+at .*:\d+:\d+/);
    const core = component(d.health, 'core');
    assert.is(coreVariantOf(core), expectedCore(target), JSON.stringify(core));
  });

}

/** pki, federation with telemetry, the bridge under the agent, errno numbers: mipsel and trixie-arm64. */
function fullCases({ target, node, scratch, label }: Run): void {
  const qemu = QEMU_USER[target.arch]!;
  test(label('pki init + issue'), async () => {
    const dir = join(scratch, 'pki-case');
    const init = await timed(label('pki init'), () => cli(node, ['pki', 'init', '--dir', dir, '--fleet', 'lab'], scratch));
    assert.is(init.code, 0, init.stderr);
    const out = join(scratch, 'a.pem');
    const issued = await timed(label('pki issue'), () =>
      cli(node, ['pki', 'issue', '--dir', dir, '--peer-id', '12D3KooWGRUVh9NQBHXhHkzdtnczqSyV5Uwn2gUBFd5xr3u4XuEf', '--name', 'a', '--out', out], scratch),
    );
    assert.is(issued.code, 0, issued.stderr);
    assert.ok(existsSync(out));
  });

  test(label('two agents admit and ping each other; telemetry reaches a real mosquitto'), async () => {
    const root = mkdtempSync(join(scratch, 'fleet-'));
    const broker = await Mosquitto.start();
    const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/+/state']);
    try {
      const online = () => ['a', 'b'].every((n) => sub.json<{ state?: string }>(`x0tta6bl4/lab/${n}/state`).some((m) => m.state === 'online'));
      const r = await timed(label('fleet'), () => fleet(node, process.execPath, root, broker.url, online));
      assert.not.match(r.logs, /is not defined|TypeError/);
      for (const h of r.health) {
        // Running, not necessarily 'ok' at this instant: on a busy machine the emulated agents
        // can miss the 10 s admission limit, drop and re-admit each other (seen at load 12 on 2 cores).
        assert.ok(['ok', 'degraded'].includes(component(h, 'federation')?.state ?? ''), JSON.stringify(h));
        assert.is(component(h, 'telemetry')?.state, 'ok', JSON.stringify(h));
        assert.is(coreVariantOf(component(h, 'core')), expectedCore(target), JSON.stringify(component(h, 'core')));
      }
    } finally {
      sub.client.end(true);
      await broker.stop();
    }
  });

  test(label(`the bundle runs the ${target.nodeArch} netlink bridge and names its kernel's errno`), async () => {
    const dir = mkdtempSync(join(scratch, 'bridge-'));
    const n = errnoTable(target.nodeArch).numbers.EPROTONOSUPPORT;
    const r = await timed(label('mesh + bridge'), () => meshWithBridge(node, qemu, target.nodeArch, dir));
    assert.is(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n').filter((l) => !/^(info|debug|warn):/.test(l));
    assert.is(lines.length, 1, r.stderr);
    assert.not.match(r.stderr, /internal error|\n\s+at /);
    assert.match(lines[0]!, 'socket(AF_NETLINK, NETLINK_GENERIC) failed');
    // MIPS: 120 (asm-generic's 93); named by the agent's own arch.
    assert.match(lines[0]!, `(EPROTONOSUPPORT, errno ${n})`);
  });

  test(label("the agent's errno table agrees with this node's os.constants.errno"), async () => {
    const r = spawnSync(node, ['-p', 'JSON.stringify(require("os").constants.errno)'], { encoding: 'utf8', timeout: 120_000 });
    const libc = JSON.parse(r.stdout) as Record<string, number>;
    let compared = 0;
    for (const [errno, v] of Object.entries(errnoTable(target.nodeArch).numbers)) {
      if (libc[errno] === undefined) continue; // ENOTSUPP: kernel-internal, not in libc
      assert.is(v, libc[errno], `${errno} on ${target.nodeArch}`);
      compared++;
    }
    assert.ok(compared >= 40, `compared ${compared}`);
  });

  test(label('errno names and MeshError codes by the running arch (process.arch, no argument)'), async () => {
    // The agent's own modules, bundled as the agent bundles them, asked with no arch argument:
    // what a MIPS router's agent makes of 122 (EOPNOTSUPP there, EDQUOT elsewhere).
    const entry = join(scratch, 'errno-entry.ts');
    writeFileSync(
      entry,
      `import { errnoName, Errno } from ${JSON.stringify(join(SRC, 'netlink/errno.ts'))};\n` +
        `import { codeForErrno } from ${JSON.stringify(join(SRC, 'mesh/batman/mesh-errors.ts'))};\n` +
        'console.log(JSON.stringify({ arch: process.arch, n122: errnoName(122), code122: codeForErrno(122), EOPNOTSUPP: Errno.EOPNOTSUPP, n95: errnoName(95) }));\n',
    );
    const out = join(scratch, 'errno-check.mjs');
    await build({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node18.20', logLevel: 'error' });
    const r = spawnSync(node, [out], { encoding: 'utf8', timeout: 120_000 });
    const got = JSON.parse(r.stdout || '{}') as Record<string, unknown>;
    const mips = target.nodeArch === 'mipsel';
    assert.equal(got, {
      arch: target.nodeArch,
      n122: mips ? 'EOPNOTSUPP' : 'EDQUOT',
      code122: mips ? 'INVALID' : 'PROTOCOL',
      EOPNOTSUPP: mips ? 122 : 95,
      n95: mips ? 'ENOTSOCK' : 'EOPNOTSUPP',
    }, r.stderr);
  });
}
