// The board profiles under board-configs/: every file loads and passes the validator, the
// boards the issue names are all there, and the validator really rejects what it must.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

test('the MIPS board is a mesh member that cannot run the agent, and says why', () => {
  const b = byId.get('gl-ar300m')!;
  assert.is(b.runsAgent, false);
  assert.is(b.nodeArch, null);
  assert.is(b.node, null);
  assert.match(b.cannotRunReason ?? '', /MIPS/);
  assert.ok(b.meshInterfaces.length > 0, 'still a mesh member');
  const mips = boards.filter((x) => x.openwrt.arch.startsWith('mips'));
  assert.ok(mips.every((x) => !x.runsAgent), 'no MIPS board may claim to run the agent');
});

test('boards that run the agent have a heap limit within a quarter of RAM and a known Node arch', () => {
  const runners = boards.filter((b) => b.runsAgent);
  assert.ok(runners.length >= 7);
  for (const b of runners) {
    assert.ok(b.node!.maxOldSpaceMB * 4 <= b.ramMB, `${b.id}: heap ${b.node!.maxOldSpaceMB} MB vs RAM ${b.ramMB} MB`);
    assert.ok(['arm64', 'arm', 'x64', 'ia32'].includes(b.nodeArch!), b.id);
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
});

test.run();
