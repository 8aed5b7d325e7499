// One agent process per node for the heal benches (guest.ts on veth, wifi-guest.ts on radios), as
// on the routers (each its own event loop): the bench's own script again under
// `ip netns exec <node>` with X0_HEAL_ROLE=agent. The bench calls serveAgentRole() at its top
// when it finds that role, and startAgents() to start and stop a set of them.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { defaultConfig, type AgentConfig } from '../../src/config/index.ts';
import { openBatmanDriver } from '../../src/mesh/batman/open-batman-driver.ts';
import type { JournalEntry } from '../../src/mapek/journal.ts';

/** What an agent process reports when it is stopped. */
export interface AgentRun {
  name: string;
  journal: JournalEntry[];
  changes: { originator: string; changes: number[] }[];
}

/**
 * How long a healthy run's loss is on before its agents start: batman-adv's TQ rates a link over
 * its last 64 OGMs (1 s apart), so an agent started sooner meets TQs of the lossless mesh before,
 * and takes the new loss's chance outages for news. A router's agent starts on links rated long
 * since (or, at boot, waits out its boot grace).
 */
export const LOSS_RATED_MS = 65_000;

export interface BenchNode { name: string; netns: string }

async function startOne(name: string, configure: (config: AgentConfig) => void, log: (m: string) => void): Promise<Agent> {
  const config = defaultConfig();
  config.agent.nodeName = name;
  config.healing.bootGraceS = 0;
  config.healing.startupJitterS = 0;
  configure(config);
  // This process runs inside the node's namespace (startAgents): netlink, ip, nft and
  // /sys/class/net counters are the node's own, as on a router.
  const driver = await openBatmanDriver({ meshIfname: 'bat0', timeoutMs: 20_000 });
  const agent = createAgent({
    config, configSource: 'bench', driver, log: createLogger('info', (l) => log(`${name} ${l}`)), serveStatus: false,
    journalPath: null,
  });
  await agent.start();
  return agent;
}

/**
 * The agent role (X0_HEAL_ROLE=agent, X0_HEAL_NODE_NAME, X0_HEAL_OUT): runs one agent until
 * SIGTERM, then stops it (undoing temporary changes) and writes its journal and route changes to
 * X0_HEAL_OUT. Never returns.
 */
export async function serveAgentRole(configure: (config: AgentConfig) => void, log: (m: string) => void): Promise<never> {
  const agent = await startOne(process.env.X0_HEAL_NODE_NAME!, configure, log);
  process.on('SIGTERM', () => {
    void agent.stop().finally(() => {
      const run: AgentRun = { name: agent.name, journal: [...agent.healer!.journal.all()], changes: agent.knowledge.routeChanges(0) };
      writeFileSync(process.env.X0_HEAL_OUT!, JSON.stringify(run));
      process.exit(0);
    });
  });
  process.stdout.write('ready\n');
  return new Promise<never>(() => {});
}

/**
 * Starts an agent on every node (this script again, in the node's namespace, with the variant in
 * X0_HEAL_VARIANT); stop() sends SIGTERM and collects what each reports.
 */
export async function startAgents(nodes: BenchNode[], variant: string): Promise<{ stop(): Promise<AgentRun[]> }> {
  const procs = await Promise.all(nodes.map(async (n) => {
    const out = `/tmp/heal-agent-${n.name}.json`;
    // `ip netns exec` also mounts the namespace's /sys (the agent's interface counters); it
    // execs node, so the signal in stop() reaches the agent itself.
    const p = spawn('ip', ['netns', 'exec', n.netns, process.execPath, ...process.execArgv, process.argv[1]!], {
      env: { ...process.env, X0_HEAL_ROLE: 'agent', X0_HEAL_NODE_NAME: n.name, X0_HEAL_OUT: out, X0_HEAL_VARIANT: variant }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      p.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('ready')) resolve();
      });
      p.on('exit', (c) => reject(new Error(`agent ${n.name} exited ${c} before it was ready`)));
    });
    return { p, out, exited: new Promise((r) => p.on('exit', r)) };
  }));
  return {
    async stop() {
      for (const x of procs) x.p.kill('SIGTERM');
      await Promise.all(procs.map((x) => x.exited));
      return procs.map((x) => JSON.parse(readFileSync(x.out, 'utf8')) as AgentRun);
    },
  };
}
