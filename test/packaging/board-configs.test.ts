// The board profiles under board-configs/: every file loads and passes the validator, the
// boards the issue names are all there, and the validator really rejects what it must.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BoardConfigError,
  boardProfileTable,
  loadBoardConfigs,
  validateBoardConfig,
  type BoardConfig,
} from '../../board-configs/load.mjs';
import { SCHEMA } from '../../src/config/schema.ts';

const boards = loadBoardConfigs();
const byId = new Map(boards.map((b) => [b.id, b]));
const clone = (id: string): BoardConfig => structuredClone(byId.get(id)!);

test('every board the issue asks for has a profile', () => {
  for (const id of ['gl-mt3000', 'xiaomi-ax3000t', 'bpi-r3', 'linksys-e8450', 'gl-b1300', 'rpi4', 'x86-64', 'gl-ar300m']) {
    assert.ok(byId.has(id), `missing board-configs/${id}.json`);
  }
});

test('the big-endian MIPS board is a mesh member that cannot run the agent, and says why', () => {
  const b = byId.get('gl-ar300m')!;
  assert.is(b.runsAgent, false);
  assert.is(b.nodeArch, null);
  assert.is(b.node, null);
  assert.match(b.cannotRunReason ?? '', /big-endian MIPS/i);
  assert.match(b.cannotRunReason ?? '', /FPU/);
  assert.ok(b.meshInterfaces.length > 0, 'still a mesh member');
  const bigEndian = boards.filter((x) => /^mips_/.test(x.openwrt.arch));
  assert.ok(bigEndian.length > 0 && bigEndian.every((x) => !x.runsAgent), 'no big-endian MIPS board may claim to run the agent');
});

test('the MT7621 boards (mipsel, Node 18) run the agent with the small-RAM node flags', () => {
  const mt7621 = ['gl-mt1300', 'ubnt-edgerouter-x', 'xiaomi-mi-router-4a-gigabit'].map((id) => byId.get(id)!);
  for (const b of mt7621) {
    assert.ok(b, 'profile present');
    assert.is(b.openwrt.target, 'ramips/mt7621');
    assert.is(b.openwrt.arch, 'mipsel_24kc');
    assert.is(b.nodeArch, 'mipsel');
    assert.is(b.runsAgent, true);
    for (const f of ['--no-opt', '--no-sparkplug', '--single-threaded']) assert.ok(b.node!.flags?.includes(f), `${b.id}: ${f}`);
    assert.match(b.notes, /FPU emulator/);
  }
  // Board names as in OpenWrt's ramips/mt7621 device trees (compatible), RAM as sold.
  assert.ok(byId.get('gl-mt1300')!.boardNames.includes('glinet,gl-mt1300'));
  assert.ok(byId.get('ubnt-edgerouter-x')!.boardNames.includes('ubnt,edgerouter-x'));
  assert.ok(byId.get('xiaomi-mi-router-4a-gigabit')!.boardNames.includes('xiaomi,mi-router-4a-gigabit'));
  assert.equal(mt7621.map((b) => b.ramMB), [256, 256, 128]);
  assert.is(byId.get('xiaomi-mi-router-4a-gigabit')!.node!.maxOldSpaceMB, 32);
});

test('boards that run the agent have a heap limit within a quarter of RAM and a known Node arch', () => {
  const runners = boards.filter((b) => b.runsAgent);
  assert.ok(runners.length >= 10);
  for (const b of runners) {
    assert.ok(b.node!.maxOldSpaceMB * 4 <= b.ramMB, `${b.id}: heap ${b.node!.maxOldSpaceMB} MB vs RAM ${b.ramMB} MB`);
    assert.ok(['arm64', 'arm', 'x64', 'ia32', 'mipsel'].includes(b.nodeArch!), b.id);
  }
  // Spot checks against the hardware, not against the files' own numbers.
  assert.is(byId.get('xiaomi-ax3000t')!.ramMB, 256);
  assert.is(byId.get('gl-b1300')!.openwrt.target, 'ipq40xx/generic');
  assert.is(byId.get('gl-b1300')!.nodeArch, 'arm');
  assert.is(byId.get('linksys-e8450')!.openwrt.target, 'mediatek/mt7622');
});

function rejects(b: unknown, re: RegExp) {
  try {
    validateBoardConfig(b, 'mutated.json');
  } catch (e) {
    assert.instance(e, BoardConfigError);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`accepted a bad profile (expected ${re})`);
}

test('the validator rejects broken profiles with a message naming the field', () => {
  let b = clone('gl-ar300m');
  b.runsAgent = true;
  rejects(b, /nodeArch|cannot run Node/);

  b = clone('gl-ar300m');
  delete b.cannotRunReason;
  rejects(b, /cannotRunReason/);

  b = clone('xiaomi-ax3000t');
  b.node!.maxOldSpaceMB = 128; // half of 256 MB
  rejects(b, /maxOldSpaceMB/);

  b = clone('gl-mt3000');
  b.meshInterfaces.push({ ...b.meshInterfaces[0]! });
  rejects(b, /listed twice/);

  b = clone('gl-mt3000');
  b.meshInterfaces[0]!.ifname = 'a-very-long-interface-name';
  rejects(b, /mesh interface name/);

  b = clone('gl-mt3000');
  b.boardNames = ['GL-MT3000'];
  rejects(b, /boardNames/);

  b = clone('gl-mt3000');
  b.openwrt.arch = 'aarch64_cortex-a53';
  b.nodeArch = 'x64';
  rejects(b, /nodeArch must be "arm64"/);

  b = clone('gl-mt3000');
  (b.defaults as Record<string, unknown>) = { agent: { 'bad-name': '1' } };
  rejects(b, /option name/);

  b = clone('gl-mt1300');
  b.node!.flags = ['--jitless'];
  rejects(b, /--jitless is not allowed/);

  b = clone('gl-mt1300');
  b.node!.flags = ['--max-old-space-size=200'];
  rejects(b, /not allowed/);

  b = clone('gl-mt1300');
  b.node!.flags = ['--no-opt; reboot'];
  rejects(b, /is not a "--flag"/);

  b = clone('gl-mt1300');
  (b.node as Record<string, unknown>).flags = '--no-opt';
  rejects(b, /node.flags must be a list/);

  b = clone('xiaomi-mi-router-4a-gigabit');
  b.ramMB = 64;
  rejects(b, /128 MB of RAM or more/);

  b = clone('gl-ar300m');
  b.openwrt.arch = 'mipsel_24kc';
  rejects(b, /nodeArch must be "mipsel"/);

  rejects('not an object', /not a JSON object/);
});

test('loadBoardConfigs refuses a board name claimed twice and an id that differs from the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'boards-'));
  try {
    writeFileSync(join(dir, 'gl-mt3000.json'), JSON.stringify(byId.get('gl-mt3000')));
    writeFileSync(join(dir, 'copy.json'), JSON.stringify({ ...byId.get('gl-mt3000'), id: 'copy' }));
    assert.throws(() => loadBoardConfigs(dir), /already claimed/);
    rmSync(join(dir, 'copy.json'));
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...byId.get('rpi4') }));
    assert.throws(() => loadBoardConfigs(dir), /must match the file name/);
    rmSync(join(dir, 'other.json'));
    writeFileSync(join(dir, 'broken.json'), '{');
    assert.throws(() => loadBoardConfigs(dir), /invalid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('board defaults name real config options with values the agent accepts', () => {
  const schema = SCHEMA as unknown as Record<string, Record<string, { uci: string; type: { parse(raw: string): { ok: boolean } } }>>;
  let checked = 0;
  for (const b of boards) {
    for (const [section, opts] of Object.entries(b.defaults)) {
      assert.ok(schema[section], `${b.id}: no section '${section}' in the config schema`);
      const fields = Object.values(schema[section]!);
      for (const [opt, value] of Object.entries(opts)) {
        const field = fields.find((f) => f.uci === opt);
        assert.ok(field, `${b.id}: no option ${section}.${opt} in the config schema`);
        assert.ok(field!.type.parse(value).ok, `${b.id}: ${section}.${opt}='${value}' is rejected by the schema`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 4, 'the small boards carry defaults');
  // The 256 MB boards must not keep the full federation fan-out of the schema default (32).
  for (const id of ['xiaomi-ax3000t', 'gl-b1300']) assert.ok(Number(byId.get(id)!.defaults.federation?.max_connections) < 32, id);
});

test('the installed lookup table has one line per board name plus the x86 target line', () => {
  const lines = boardProfileTable(boards).split('\n').filter((l) => l && !l.startsWith('#'));
  const names = boards.reduce((n, b) => n + b.boardNames.length + (b.matchTarget ? 1 : 0), 0);
  assert.is(lines.length, names);
  assert.ok(lines.includes('target:x86/64 x86-64 1 256 8'));
  assert.ok(lines.includes('xiaomi,mi-router-ax3000t xiaomi-ax3000t 1 48 1'));
  assert.ok(lines.includes('glinet,gl-ar300m-nor gl-ar300m 0 0 0'));
  // Node flags are trailing fields: a board without them keeps the five-field line.
  assert.ok(lines.includes('xiaomi,mi-router-4a-gigabit xiaomi-mi-router-4a-gigabit 1 32 1 --no-opt --no-sparkplug --single-threaded'));
});

// The init script itself under busybox sh, with procd's and UCI's shell functions replaced by
// stubs (there is no procd here) that record the node command line. The state dir and socket are
// in a scratch dir; board_profile reads the scratch table instead of /tmp/sysinfo.
const INIT = new URL('../../openwrt/x0tta6bl4/files/x0tta6bl4.init', import.meta.url).pathname;
function initCommandLine(table: string, board: string): { code: number | null; argv: string[]; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'x0-init-'));
  try {
    writeFileSync(join(dir, 'board-profiles'), table);
    const script = `
config_load() { :; }
config_foreach() { "$1" cfg; }
config_get_bool() { eval "$1=1"; }
config_get() { case "$3" in state_dir) eval "$1=$SCRATCH/state" ;; socket) eval "$1=$SCRATCH/run/status.sock" ;; *) eval "$1=\"$4\"" ;; esac; }
procd_set_param() { [ "$1" = command ] && { shift; printf '%s\n' "$@" > "$SCRATCH/argv"; }; return 0; }
procd_open_instance() { :; }
procd_close_instance() { :; }
procd_add_jail() { :; }
. "$INIT"
PROFILES="$SCRATCH/board-profiles"
board_profile() { profile_lookup "$BOARD"; }
privdrop_blocker() { echo "test: no privilege drop"; }
start_service
`;
    const r = spawnSync('busybox', ['sh', '-c', script], { env: { PATH: process.env.PATH, SCRATCH: dir, INIT, BOARD: board }, encoding: 'utf8' });
    if (r.error) throw new Error(`busybox is needed for this test (Debian package busybox): ${r.error.message}`);
    let argv: string[] = [];
    try {
      argv = readFileSync(join(dir, 'argv'), 'utf8').split('\n').filter(Boolean);
    } catch {
      /* no command: the script refused to start */
    }
    return { code: r.status, argv, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the init script passes a profile's node flags to node, and reads a table without flags as before", () => {
  const table = boardProfileTable(boards);
  const small = initCommandLine(table, 'xiaomi,mi-router-4a-gigabit');
  assert.is(small.code, 0, small.stderr);
  assert.equal(small.argv, [
    '/usr/bin/node', '--max-old-space-size=32', '--max-semi-space-size=1', '--v8-pool-size=1',
    '--no-opt', '--no-sparkplug', '--single-threaded',
    '/usr/lib/x0tta6bl4/x0tta6bl4.mjs', 'agent', '--config', '/etc/config/x0tta6bl4',
  ]);
  const big = initCommandLine(table, 'bananapi,bpi-r3');
  assert.equal(big.argv.slice(0, 5), ['/usr/bin/node', '--max-old-space-size=256', '--max-semi-space-size=8', '--v8-pool-size=1', '/usr/lib/x0tta6bl4/x0tta6bl4.mjs']);
  // A table written by an older package (five fields, no flags) still works.
  const old = initCommandLine('glinet,gl-mt3000 gl-mt3000 1 96 4\n', 'glinet,gl-mt3000');
  assert.equal(old.argv.slice(1, 5), ['--max-old-space-size=96', '--max-semi-space-size=4', '--v8-pool-size=1', '/usr/lib/x0tta6bl4/x0tta6bl4.mjs']);
  const mips = initCommandLine(table, 'glinet,gl-ar300m-nor');
  assert.is(mips.code, 1);
  assert.equal(mips.argv, []);
  assert.match(mips.stderr, /cannot run the agent/);
});

test.run();
