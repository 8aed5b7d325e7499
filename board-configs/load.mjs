// Loads and checks the board profiles (one JSON file per router in this folder). Plain .mjs so
// that `npm run package` (plain node) and the tests (tsx) share one validator.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BOARD_CONFIG_DIR = new URL('.', import.meta.url).pathname;

export class BoardConfigError extends Error {
  name = 'BoardConfigError';
}

// OpenWrt package architecture prefix -> Node's process.arch. Little-endian MIPS (mipsel_*) runs
// Node 18, the last line with a 32-bit MIPS port (OpenWrt 23.05 and Debian bookworm ship it).
// Big-endian MIPS (mips_*) maps to null: no Node release of a maintained line runs there
// (docs/architecture.md, Runtime).
const ARCH_TO_NODE = [
  [/^aarch64_/, 'arm64'],
  [/^arm_.*(vfp|neon)/, 'arm'],
  [/^x86_64$/, 'x64'],
  [/^i386_/, 'ia32'],
  [/^mipsel_/, 'mipsel'],
  [/^mips/, null],
];

// Extra node/V8 flags a profile may set (the heap sizes have their own fields). A flag that would
// take WebAssembly away (--jitless, --no-expose-wasm) is refused: the core runs in WASM.
const NODE_FLAG = /^--[a-z][a-z0-9-]*(=[0-9]+)?$/;
const NODE_FLAG_FORBIDDEN = /^--(jitless|no-expose-wasm|max-old-space-size|max-semi-space-size)(=|$)/;
// The smallest RAM the agent is measured to run in (bench:memory, 128 MiB QEMU guest).
const MIN_RAM_MB = 128;

const IFNAME = /^[A-Za-z0-9._-]{1,15}$/; // IFNAMSIZ - 1
const UCI_NAME = /^[A-Za-z0-9_]+$/;
const BOARD_NAME = /^[a-z0-9-]+,[a-z0-9._-]+$/;

function fail(file, msg) {
  throw new BoardConfigError(`${file}: ${msg}`);
}

function isInt(v, min, max) {
  return Number.isInteger(v) && v >= min && v <= max;
}

/** Checks one parsed profile; throws BoardConfigError naming the file and the field. */
export function validateBoardConfig(b, file = '<board>') {
  if (b === null || typeof b !== 'object' || Array.isArray(b)) fail(file, 'not a JSON object');
  const str = (k) => {
    if (typeof b[k] !== 'string' || b[k].trim() === '') fail(file, `${k} must be a non-empty string`);
  };
  for (const k of ['id', 'model', 'soc', 'flashType', 'notes']) str(k);
  if (!/^[a-z0-9-]+$/.test(b.id)) fail(file, `id '${b.id}' must be lower-case letters, digits and '-'`);
  if (!Array.isArray(b.boardNames) || b.boardNames.some((n) => typeof n !== 'string' || !BOARD_NAME.test(n)))
    fail(file, 'boardNames must be a list of "vendor,model" strings as in /tmp/sysinfo/board_name');
  if (b.boardNames.length === 0 && b.matchTarget !== true)
    fail(file, 'a profile without boardNames must set matchTarget: true');
  const ow = b.openwrt;
  if (!ow || typeof ow.target !== 'string' || !/^[a-z0-9_-]+\/[a-z0-9_-]+$/.test(ow.target))
    fail(file, 'openwrt.target must look like "mediatek/filogic"');
  if (typeof ow.arch !== 'string') fail(file, 'openwrt.arch must be a string');
  const archRule = ARCH_TO_NODE.find(([re]) => re.test(ow.arch));
  if (!archRule) fail(file, `openwrt.arch '${ow.arch}' is not one we know (aarch64_*, arm_* with FPU, x86_64, i386_*, mips*)`);
  if (archRule[1] !== b.nodeArch) fail(file, `nodeArch must be ${JSON.stringify(archRule[1])} for ${ow.arch}`);
  if (!isInt(b.ramMB, 16, 1 << 20)) fail(file, 'ramMB must be an integer');
  if (!isInt(b.flashMB, 4, 1 << 24)) fail(file, 'flashMB must be an integer');
  if (typeof b.runsAgent !== 'boolean') fail(file, 'runsAgent must be true or false');

  if (b.runsAgent) {
    if (b.nodeArch === null) fail(file, 'runsAgent is true but the architecture cannot run Node');
    if (b.ramMB < MIN_RAM_MB) fail(file, `the agent needs ${MIN_RAM_MB} MB of RAM or more; set runsAgent false with a reason`);
    const n = b.node;
    if (!n || typeof n !== 'object') fail(file, 'node { maxOldSpaceMB, maxSemiSpaceMB } is required when runsAgent');
    if (n.flags !== undefined) {
      if (!Array.isArray(n.flags)) fail(file, 'node.flags must be a list of "--flag" strings');
      for (const f of n.flags) {
        if (typeof f !== 'string' || !NODE_FLAG.test(f)) fail(file, `node.flags: ${JSON.stringify(f)} is not a "--flag" or "--flag=N"`);
        if (NODE_FLAG_FORBIDDEN.test(f)) fail(file, `node.flags: ${f} is not allowed (the heap sizes have their own fields; WASM must stay on)`);
      }
    }
    // A quarter of RAM at most: the router's own services, Wi-Fi drivers and page cache need the rest.
    if (!isInt(n.maxOldSpaceMB, 32, Math.floor(b.ramMB / 4)))
      fail(file, `node.maxOldSpaceMB must be an integer from 32 to ${Math.floor(b.ramMB / 4)} (RAM/4)`);
    if (!isInt(n.maxSemiSpaceMB, 1, 16)) fail(file, 'node.maxSemiSpaceMB must be an integer from 1 to 16');
    if (b.cannotRunReason !== undefined) fail(file, 'cannotRunReason only belongs to boards that cannot run the agent');
  } else {
    if (typeof b.cannotRunReason !== 'string' || b.cannotRunReason.length < 20)
      fail(file, 'a board that cannot run the agent must say why in cannotRunReason');
    if (b.node !== null) fail(file, 'node must be null when runsAgent is false');
  }

  if (!Array.isArray(b.meshInterfaces) || b.meshInterfaces.length === 0)
    fail(file, 'meshInterfaces must list at least one interface');
  const seen = new Set();
  for (const m of b.meshInterfaces) {
    if (!m || typeof m.ifname !== 'string' || !IFNAME.test(m.ifname)) fail(file, `bad mesh interface name ${JSON.stringify(m?.ifname)}`);
    if (seen.has(m.ifname)) fail(file, `mesh interface ${m.ifname} listed twice`);
    seen.add(m.ifname);
    if (m.kind === '802.11s') {
      if (typeof m.radio !== 'string' || !/^radio\d+$/.test(m.radio)) fail(file, `${m.ifname}: 802.11s needs radio "radioN"`);
      if (!['2g', '5g', '6g'].includes(m.band)) fail(file, `${m.ifname}: band must be 2g, 5g or 6g`);
    } else if (m.kind !== 'ethernet') {
      fail(file, `${m.ifname}: kind must be 802.11s or ethernet`);
    }
  }

  const d = b.defaults;
  if (!d || typeof d !== 'object' || Array.isArray(d)) fail(file, 'defaults must be an object { section: { option: value } }');
  for (const [section, opts] of Object.entries(d)) {
    if (!UCI_NAME.test(section)) fail(file, `defaults: bad UCI section name '${section}'`);
    if (!opts || typeof opts !== 'object' || Array.isArray(opts)) fail(file, `defaults.${section} must be an object`);
    for (const [opt, val] of Object.entries(opts)) {
      if (!UCI_NAME.test(opt)) fail(file, `defaults: bad UCI option name '${section}.${opt}'`);
      if (typeof val !== 'string' || /[\n']/.test(val)) fail(file, `defaults.${section}.${opt} must be a one-line string without quotes`);
    }
  }
  return b;
}

/** Every profile in the folder, validated, sorted by id; board names must not repeat across files. */
export function loadBoardConfigs(dir = BOARD_CONFIG_DIR) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const boards = [];
  const owner = new Map();
  for (const f of files) {
    let parsed;
    try {
      parsed = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch (e) {
      throw new BoardConfigError(`${f}: invalid JSON: ${e.message}`);
    }
    const b = validateBoardConfig(parsed, f);
    if (`${b.id}.json` !== f) fail(f, `id '${b.id}' must match the file name`);
    for (const n of b.boardNames) {
      if (owner.has(n)) fail(f, `board name ${n} is already claimed by ${owner.get(n)}`);
      owner.set(n, f);
    }
    boards.push(b);
  }
  return boards;
}

/**
 * The lookup table installed as /usr/share/x0tta6bl4/board-profiles, read by the init script
 * with busybox awk: "<match> <id> <runsAgent 0|1> <maxOldSpaceMB> <maxSemiSpaceMB> [flag...]",
 * where match is a board_name or "target:<openwrt target>". The node flags are optional trailing
 * fields, so a line without them reads as before.
 */
export function boardProfileTable(boards) {
  const lines = ['# match id runs_agent max_old_space_mb max_semi_space_mb [node_flag...] (generated from board-configs/)'];
  for (const b of boards) {
    const flags = (b.node?.flags ?? []).map((f) => ` ${f}`).join('');
    const tail = `${b.id} ${b.runsAgent ? 1 : 0} ${b.node?.maxOldSpaceMB ?? 0} ${b.node?.maxSemiSpaceMB ?? 0}${flags}`;
    for (const n of b.boardNames) lines.push(`${n} ${tail}`);
    if (b.matchTarget) lines.push(`target:${b.openwrt.target} ${tail}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * /usr/share/x0tta6bl4/board-defaults, read once by the package's uci-defaults script:
 * "<match> <section>.<option> <value>" per default, match as in boardProfileTable.
 */
export function boardDefaultsTable(boards) {
  const lines = ['# match section.option value (generated from board-configs/)'];
  for (const b of boards) {
    const matches = [...b.boardNames, ...(b.matchTarget ? [`target:${b.openwrt.target}`] : [])];
    for (const [section, opts] of Object.entries(b.defaults))
      for (const [opt, val] of Object.entries(opts)) for (const m of matches) lines.push(`${m} ${section}.${opt} ${val}`);
  }
  return lines.join('\n') + '\n';
}

// `node board-configs/load.mjs profiles|defaults` prints a table (the feed Makefile uses it).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const which = process.argv[2];
  const boards = loadBoardConfigs();
  if (which === 'profiles') process.stdout.write(boardProfileTable(boards));
  else if (which === 'defaults') process.stdout.write(boardDefaultsTable(boards));
  else {
    console.error('usage: node board-configs/load.mjs profiles|defaults');
    process.exit(2);
  }
}
