// `x0tta6bl4 mesh`: batman-adv's tables and settings over our own netlink path, the way
// batctl shows them (row formats match batctl o/n/gwl/if), plus `mesh set` with read-back.
import { existsSync } from 'node:fs';
import { UsageError, UserError, type CliCommand, type CliIo, type FlagValues } from '../command.ts';
import { DEFAULT_CONFIG_PATH, loadConfigForCli } from '../config-path.ts';
import { ifnameProblem } from '../../config/ifname.ts';
import { MeshError, type MeshDriver, type MeshInfo } from '../../mesh/driver.ts';
import { openBatmanDriver } from '../../mesh/batman/open-batman-driver.ts';
import { bridgeProblem } from '../../agent/open-driver.ts';
import {
  gatewayRow,
  gatewaysHeader,
  interfaceRow,
  meshInfoLine,
  neighbourRow,
  neighboursHeader,
  originatorRow,
  originatorsHeader,
} from '../../mesh/batman/batctl-tables.ts';
import { HARDIF_SETTING_KEYS, MESH_SETTING_KEYS, SettingSyntaxError, findKey } from '../../mesh/batman/batctl-settings.ts';

export type OpenMeshDriver = (meshIfname: string) => Promise<MeshDriver>;

const TABLES = ['originators', 'neighbours', 'gateways', 'interfaces', 'settings'] as const;
type Table = (typeof TABLES)[number];
const TABLE_ALIASES: Record<string, Table> = {
  o: 'originators',
  originators: 'originators',
  n: 'neighbours',
  neighbours: 'neighbours',
  neighbors: 'neighbours',
  gwl: 'gateways',
  gateways: 'gateways',
  if: 'interfaces',
  interface: 'interfaces',
  interfaces: 'interfaces',
  settings: 'settings',
};

const keyHelp = (keys: readonly { name: string; aliases: readonly string[]; syntax: string }[]) =>
  keys.map((k) => `  ${[k.name, ...k.aliases].join(', ').padEnd(30)}${k.syntax}`).join('\n');

const USAGE = `usage: x0tta6bl4 mesh originators|neighbours|gateways|interfaces|settings [--json] [--no-header] [--meshif IF]
       x0tta6bl4 mesh set [--meshif IF] KEY VALUE...
       x0tta6bl4 mesh set --hardif IF KEY VALUE

Reads batman-adv over netlink, like batctl (same row formats):
  originators  (o)    originators and their next hops; * marks the next hop in use
  neighbours   (n)    single-hop neighbours
  gateways     (gwl)  gateways in the mesh; * marks the selected one
  interfaces   (if)   hard interfaces of the mesh and whether they are active
  settings            every mesh setting, by batctl's names

\`mesh set\` writes one setting, reads it back and prints what the kernel kept; it exits 1
when the kernel kept something else (batman-adv drops invalid values silently).
Mesh keys:
${keyHelp(MESH_SETTING_KEYS)}
Hard-interface keys (with --hardif IF):
${keyHelp(HARDIF_SETTING_KEYS)}
Bandwidths without a unit are kbit/s (batctl assumes Mbit/s); "10mbit/2mbit" works as in batctl.
The mesh interface is --meshif, else agent.mesh_interface from the config, else bat0.
Exit codes: 0 ok, 1 the mesh or kernel refused (message says why), 2 usage.`;

export function createMeshCommand(open: OpenMeshDriver): CliCommand {
  return {
    name: 'mesh',
    summary: 'read and change batman-adv like batctl',
    usage: USAGE,
    flags: {
      json: { type: 'boolean', describe: 'machine-readable output (the agent model, kbit/s and ms)' },
      header: { type: 'boolean', describe: 'print the info and column header lines (default; --no-header like batctl -H)' },
      meshif: { type: 'string', value: 'IF', describe: 'mesh interface (default from config, bat0)' },
      hardif: { type: 'string', value: 'IF', describe: 'with set: change a hard interface setting' },
      config: { type: 'string', value: 'PATH', describe: 'config file (default /etc/config/x0tta6bl4)' },
    },
    async run({ flags, positionals, io }) {
      const [sub, ...rest] = positionals;
      if (sub === undefined) throw new UsageError(`mesh needs what to show: ${TABLES.join(', ')} or set`);
      const meshIf = resolveMeshIf(flags);
      if (sub === 'set') {
        const plan = planSet(rest, typeof flags.hardif === 'string' ? checkIfname('--hardif', flags.hardif) : undefined);
        return withDriver(open, meshIf, (d) => plan(d, io, flags.json === true));
      }
      const table = TABLE_ALIASES[sub];
      if (!table) throw new UsageError(`unknown mesh table '${sub}' (${TABLES.join(', ')} or set)`);
      if (rest.length) throw new UsageError(`mesh ${table} takes no arguments (got '${rest[0]}')`);
      if (flags.hardif !== undefined) throw new UsageError('--hardif only applies to mesh set');
      return withDriver(open, meshIf, (d) => showTable(d, table, io, flags.json === true, flags.header !== false));
    },
  };
}

// A bridge this CPU has none of or cannot run fails the open: said the way the agent says it.
export const meshCommand: CliCommand = createMeshCommand(async (meshIfname) => {
  try {
    return await openBatmanDriver({ meshIfname });
  } catch (e) {
    if (e instanceof MeshError) throw new MeshError(e.code, bridgeProblem(e.message), e.errno);
    throw e;
  }
});

function resolveMeshIf(flags: FlagValues): string {
  if (typeof flags.meshif === 'string') {
    return checkIfname('--meshif', flags.meshif);
  }
  if (typeof flags.config === 'string' || existsSync(DEFAULT_CONFIG_PATH)) return loadConfigForCli(flags).config.agent.meshInterface;
  return 'bat0';
}

/** The name back if the kernel would take it (and it prints as what it is), else a UsageError. */
function checkIfname(flag: string, name: string): string {
  const problem = ifnameProblem(name);
  if (problem) throw new UsageError(`${flag}: not an interface name: '${name}' (${problem})`);
  return name;
}

async function withDriver(open: OpenMeshDriver, meshIf: string, fn: (d: MeshDriver) => Promise<number>): Promise<number> {
  let driver: MeshDriver | undefined;
  try {
    driver = await open(meshIf);
    return await fn(driver);
  } catch (e) {
    if (e instanceof MeshError) throw new UserError(e.message);
    throw e;
  } finally {
    await driver?.close();
  }
}

async function showTable(d: MeshDriver, table: Table, io: CliIo, json: boolean, header: boolean): Promise<number> {
  if (table === 'settings') {
    const s = await d.settings();
    if (json) io.out(JSON.stringify(s, null, 2));
    else io.out(MESH_SETTING_KEYS.map((k) => `${k.name.padEnd(23)}${k.show(s)}`).join('\n'));
    return 0;
  }
  // The header names the metric column, which depends on the routing algorithm.
  const info: MeshInfo | undefined = !json && header && table !== 'interfaces' ? await d.mesh() : undefined;
  const lines: string[] = [];
  let rows: unknown[];
  if (table === 'originators') {
    const o = await d.originators();
    rows = o;
    if (info) lines.push(meshInfoLine(info), originatorsHeader(info.algo));
    lines.push(...o.map(originatorRow));
  } else if (table === 'neighbours') {
    const n = await d.neighbours();
    rows = n;
    if (info) lines.push(meshInfoLine(info), neighboursHeader(info.algo));
    lines.push(...n.map(neighbourRow));
  } else if (table === 'gateways') {
    const g = await d.gateways();
    rows = g;
    if (info) lines.push(meshInfoLine(info), gatewaysHeader(info.algo));
    lines.push(...g.map(gatewayRow));
  } else {
    const i = await d.interfaces();
    rows = i;
    lines.push(...i.map(interfaceRow));
  }
  if (json) io.out(JSON.stringify(rows, null, 2));
  else if (lines.length) io.out(lines.join('\n'));
  return 0;
}

type SetPlan = (d: MeshDriver, io: CliIo, json: boolean) => Promise<number>;

/** Validates KEY VALUE before anything is opened: a typo never reaches the kernel. */
function planSet(args: string[], hardif: string | undefined): SetPlan {
  const [keyName, ...values] = args;
  if (keyName === undefined) throw new UsageError('mesh set needs KEY VALUE (see x0tta6bl4 mesh --help)');
  if (values.length === 0) throw new UsageError(`mesh set ${keyName} needs a value`);
  try {
    if (hardif !== undefined) {
      const key = findKey(HARDIF_SETTING_KEYS, keyName);
      if (!key) throw new UsageError(`unknown hard-interface setting '${keyName}' (${HARDIF_SETTING_KEYS.map((k) => k.name).join(', ')})`);
      const changes = key.parse(values);
      return async (d, io, json) => {
        const back = await d.setHardIf(hardif, changes);
        io.out(json ? JSON.stringify(back, null, 2) : `${hardif} ${key.name}: ${key.show(back)}`);
        return reportKept(io, changes, back as unknown as Record<string, unknown>);
      };
    }
    const key = findKey(MESH_SETTING_KEYS, keyName);
    if (!key) throw new UsageError(`unknown mesh setting '${keyName}' (${MESH_SETTING_KEYS.map((k) => k.name).join(', ')})`);
    const changes = key.parse(values);
    return async (d, io, json) => {
      const back = await d.setMesh(changes);
      io.out(json ? JSON.stringify(back, null, 2) : `${key.name}: ${key.show(back)}`);
      return reportKept(io, changes, back as unknown as Record<string, unknown>);
    };
  } catch (e) {
    if (e instanceof SettingSyntaxError) throw new UsageError(e.message);
    throw e;
  }
}

/** 0 when the kernel kept every value asked for, else 1 with what it kept instead. */
function reportKept(io: CliIo, asked: object, back: Record<string, unknown>): number {
  const differ = Object.entries(asked).filter(([k, v]) => back[k] !== v);
  for (const [k, v] of differ) io.err(`x0tta6bl4: the kernel kept ${k} = ${String(back[k])}, not ${String(v)}`);
  return differ.length ? 1 : 0;
}
