// `x0tta6bl4 agent` (what procd starts): loads and checks the config, prepares state_dir, opens
// the core and the mesh driver, and runs the agent createAgent builds until SIGTERM.
import { UsageError, UserError, type CliCommand } from '../command.ts';
import { loadConfigForCli } from '../config-path.ts';
import { createAgent } from '../../agent/create-agent.ts';
import { createLogger } from '../../agent/logger.ts';
import { openCore } from '../../agent/open-core.ts';
import { MeshDriverUnavailableError, openDriver, unavailableDriver, type OpenedDriver } from '../../agent/open-driver.ts';
import { escapePrintable } from '../../config/printable.ts';
import { StatusServerError } from '../../status/server.ts';
import { ensureStateDir, StateDirError } from '../../agent/state-dir.ts';

export const agentCommand: CliCommand = {
  name: 'agent',
  summary: 'run the agent daemon (what procd starts)',
  usage: `usage: x0tta6bl4 agent [--config PATH] [--dry-run] [--log-level LEVEL]

Reads /etc/config/x0tta6bl4 (or --config), refuses to start on an invalid config and says
why, then watches the mesh and serves the status API until SIGTERM or Ctrl-C. Without a
netlink bridge this CPU can run it says so in one line and serves only the status API, with
the mesh down and the reason.`,
  flags: {
    config: { type: 'string', value: 'PATH', describe: 'config file (default /etc/config/x0tta6bl4)' },
    'dry-run': { type: 'boolean', describe: 'plan and report, but change nothing (overrides agent.dry_run)' },
    'log-level': { type: 'string', value: 'LEVEL', describe: 'debug, info, warn or error (overrides agent.log_level)' },
  },
  async run({ flags, positionals, io, stopSignal }) {
    if (positionals.length) throw new UsageError(`agent takes no arguments (got '${positionals[0]}')`);
    const level = flags['log-level'];
    if (level !== undefined && !['debug', 'info', 'warn', 'error'].includes(String(level)))
      throw new UsageError(`--log-level must be debug, info, warn or error (got '${level}')`);
    const { config, source, warnings } = loadConfigForCli(flags);
    if (flags['dry-run'] !== undefined) config.agent.dryRun = Boolean(flags['dry-run']);
    const log = createLogger((level as 'info' | undefined) ?? config.agent.logLevel, (l) => io.err(l));
    for (const w of warnings) log.warn(`config: ${w}`);
    if (!config.agent.enabled) {
      log.info(`agent.enabled is off in ${source}; not starting`);
      return 0;
    }
    try {
      // Before anything reads or writes there: a state_dir others can write is refused (exit 1).
      if (ensureStateDir(config.agent.stateDir).created) log.info(`created agent.state_dir ${config.agent.stateDir} (mode 0700)`);
    } catch (e) {
      if (e instanceof StateDirError) throw new UserError(e.message);
      throw e;
    }
    const core = await openCore(log);
    // No bridge this CPU can run: the one line, then status only (mesh down with the reason)
    // instead of an exit that procd would respawn into the same failure; docs/architecture.md.
    const meshDown: { reason?: string } = {};
    const { driver, describeMac } = await openDriver(config, log).catch((e: unknown): OpenedDriver => {
      if (!(e instanceof MeshDriverUnavailableError)) throw e;
      io.err(`x0tta6bl4: ${escapePrintable(e.message)}`);
      meshDown.reason = e.reason;
      return { driver: unavailableDriver(e.reason) };
    });
    const agent = createAgent({ config, configSource: source, configWarnings: warnings, driver, log, core, describeMac, meshDown: meshDown.reason });
    try {
      await agent.start();
    } catch (e) {
      // A status.socket or http_port that cannot be served is the operator's to fix: one line, exit 1.
      if (e instanceof StatusServerError) {
        await driver.close().catch(() => {});
        throw new UserError(e.message);
      }
      throw e;
    }
    const sig = await stopSignal;
    log.info(`${sig}: stopping`);
    await agent.stop();
    return 0;
  },
};
