// The self-healing loop after each monitor poll: analyze → review what is being verified →
// plan → execute. Owns the journal and the executor; shows its state to /status and /metrics.
import type { MeshDriver, MeshSettings } from '../mesh/driver.ts';
import type { Logger } from '../agent/logger.ts';
import { MetricsText } from '../status/metrics-text.ts';
import type { ActionKind, ActionTarget } from './actions/index.ts';
import { ACTIONS } from './actions/index.ts';
import { DEFAULT_FAST_ORIG_INTERVAL_MS } from './actions/orig-interval.ts';
import { INSTABILITY_KEY, isInstability } from './policies.ts';
import { Analyzer, type AnalyzeOptions } from './analyze.ts';
import { SILENT_AFTER_MS } from './detection-timing.ts';
import type { CommandRunner } from './command-runner.ts';
import { Executor, type ExecuteOptions } from './execute.ts';
import type { Connectivity, Finding } from './findings.ts';
import { Journal, type JournalEntry } from './journal.ts';
import type { Knowledge } from './knowledge.ts';
import { Planner, type PlanOptions, type PlannedStep, type Refusal } from './plan.ts';
import type { ScoreRoutes } from './route-quality.ts';
import type { GatewayProbe } from './gateway-probe.ts';
import type { ExternalChange, HealingStatus } from './healing-status.ts';
import { NOOP_TRACER, type SpanContext, type Tracer } from '../tracing/api.ts';
import { traceCycle, type CycleMarks } from './cycle-trace.ts';

// Declared in healing-status.ts so that status/types.ts can name them without importing the loop.
export type { ExternalChange, HealingStatus };

export interface HealerOptions {
  driver: MeshDriver;
  run: CommandRunner;
  sleep?: (ms: number) => Promise<void>;
  knowledge: Knowledge;
  log: Logger;
  now: () => number;
  /** Milliseconds since the system booted (boot grace). */
  uptimeMs: () => number;
  /** 0..1, for the start-up delay. */
  random: () => number;
  score: ScoreRoutes | null;
  journalPath: string | null;
  journalMinWriteIntervalMs?: number;
  plan: Omit<PlanOptions, 'startupDelayMs'> & { startupJitterMs: number };
  execute: ExecuteOptions;
  /** What orig-interval lowers orig_interval to (default DEFAULT_FAST_ORIG_INTERVAL_MS). */
  fastOrigIntervalMs?: number;
  /** Whether a hard interface is a Wi-Fi one (restart-interface does not take it down); none: never. */
  wireless?: (ifname: string) => Promise<boolean>;
  analyze?: AnalyzeOptions;
  describeMac?: (mac: string) => string;
  /** Federated learning's failure probabilities by "ifname/neighbour" (route scoring). */
  failureProbs?: () => ReadonlyMap<string, number>;
  /** Reachability probe of the selected gateway (healing.gateway_probe), every everyMs (default 10 s). */
  gatewayProbe?: { probe: GatewayProbe; everyMs?: number } | null;
  /** Spans of cycles that find something new or act (cycle-trace.ts); default off. */
  tracer?: Tracer;
}

/** Our own writes are recognised in the config events for this long after them. */
const OWN_WRITE_MS = 10_000;
const EXTERNAL_LIMIT = 20;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * An operator's action the safety rules refuse: `disabled` (never, with this config), `busy`
 * (not now: cool-down, hourly limit, another action in progress), `bad-target` (the action
 * wants another target).
 */
export class ActionRefused extends Error {
  override readonly name = 'ActionRefused';
  constructor(
    readonly rule: Refusal['rule'] | 'bad-target',
    message: string,
  ) {
    super(message);
  }
}

export class Healer {
  readonly journal: Journal;
  findings: Finding[] = [];
  planned: PlannedStep[] = [];
  connectivity: Connectivity | null = null;
  private readonly analyzer: Analyzer;
  private readonly planner: Planner;
  private readonly executor: Executor;
  private baseline: MeshSettings | null = null;
  private readonly startedMs: number;
  private readonly startupDelayMs: number;
  private readonly counts = { rollbacks: 0, noEffect: 0, failed: 0, helped: 0 };
  /** Settings as the last config event (or the start) showed them. */
  private lastSettings: MeshSettings | null = null;
  /** What our actions wrote, by setting, so their config events are not taken for someone else's. */
  private readonly ownWrites = new Map<string, { values: string[]; atMs: number }>();
  private offSettings: (() => void) | null = null;
  private probing: Promise<void> | null = null;
  private lastProbeAt = -Infinity;
  /** A turn of the loop and an operator's action never interleave: each sees the other's journal entries. */
  private turn: Promise<unknown> = Promise.resolve();
  readonly externalChanges: ExternalChange[] = [];
  private readonly tracer: Tracer;
  /** Finding keys of the previous turn (tracing on only): a new one makes the cycle worth a trace. */
  private tracedKeys: ReadonlySet<string> = new Set();

  constructor(private readonly options: HealerOptions) {
    this.journal = new Journal({ path: options.journalPath, minWriteIntervalMs: options.journalMinWriteIntervalMs });
    if (this.journal.loadWarning) options.log.warn(this.journal.loadWarning);
    this.analyzer = new Analyzer(options.knowledge, options.score, options.analyze, options.describeMac, options.failureProbs);
    this.startedMs = options.now();
    this.startupDelayMs = Math.floor(options.random() * options.plan.startupJitterMs);
    this.planner = new Planner({ ...options.plan, startupDelayMs: this.startupDelayMs });
    const report = (kind: 'action' | 'rollback' | 'finding', message: string) => {
      options.knowledge.addEvent(kind, message, options.now());
      (kind === 'action' ? options.log.info : options.log.warn)(message);
    };
    const driver = this.recordingDriver(options.driver);
    this.tracer = options.tracer ?? NOOP_TRACER;
    this.executor = new Executor(this.journal, () => ({ driver, run: options.run, baseline: this.baseline!, sleep: options.sleep ?? realSleep, fastOrigIntervalMs: options.fastOrigIntervalMs ?? DEFAULT_FAST_ORIG_INTERVAL_MS, ...(options.wireless ? { wireless: options.wireless } : {}) }), options.execute, report, options.now, this.tracer);
  }

  /** The driver the actions use: notes each mesh setting they write (see settingsEvent). */
  private recordingDriver(d: MeshDriver): MeshDriver {
    const setMesh: MeshDriver['setMesh'] = (changes) => {
      const at = this.options.now();
      for (const [k, v] of Object.entries(changes)) {
        const w = this.ownWrites.get(k);
        const values = w && at - w.atMs < OWN_WRITE_MS ? w.values : [];
        this.ownWrites.set(k, { values: [...values, JSON.stringify(v)].slice(-4), atMs: at });
      }
      return d.setMesh(changes);
    };
    return new Proxy(d, { get: (t, p) => (p === 'setMesh' ? setMesh : Reflect.get(t, p, t)) }) as MeshDriver;
  }

  /**
   * A batman-adv `config` event: which settings changed, and whether we did it. A change made by
   * someone else is noted (event, /status) and becomes the value temporary changes return to;
   * the actions themselves never restore over it (SupersededError in their revert).
   */
  private settingsEvent(s: MeshSettings): void {
    const prev = this.lastSettings;
    this.lastSettings = s;
    if (!prev) return;
    const now = this.options.now();
    for (const key of Object.keys(s) as (keyof MeshSettings)[]) {
      const [from, to] = [JSON.stringify(prev[key]), JSON.stringify(s[key])];
      if (from === to) continue;
      const own = this.ownWrites.get(key);
      if (own && now - own.atMs < OWN_WRITE_MS && own.values.includes(to)) continue;
      this.externalChanges.push({ atMs: now, setting: key, from: prev[key], to: s[key] });
      if (this.externalChanges.length > EXTERNAL_LIMIT) this.externalChanges.shift();
      if (this.baseline) (this.baseline as unknown as Record<string, unknown>)[key] = s[key];
      this.options.knowledge.addEvent('info', `setting ${key} changed outside the agent: ${from} → ${to}`, now);
      this.options.log.info(`setting ${key} changed outside the agent: ${from} → ${to}; temporary changes will not undo it`);
    }
  }

  /** Undoes what a previous run left in place (it may have been killed mid-action), then notes the settings to return to. */
  async start(): Promise<void> {
    const open = this.journal.open();
    if (open.length) {
      this.options.log.warn(`journal: ${open.length} action(s) left open by the previous run; undoing temporary changes`);
      this.baseline = await this.options.driver.settings().catch(() => null);
      if (this.baseline) await this.executor.restoreAll('agent restarted');
    }
    this.baseline = await this.options.driver.settings().catch(() => null);
    this.lastSettings = this.baseline ? { ...this.baseline } : null;
    this.offSettings ??= this.options.driver.onSettingsChanged((x) => this.settingsEvent(x));
  }

  async stop(): Promise<void> {
    await this.probing;
    this.offSettings?.();
    this.offSettings = null;
    if (this.baseline) await this.executor.restoreAll('agent stopped');
    this.journal.flush(this.options.now());
  }

  /**
   * Starts a probe of the selected gateway when one is due. It runs beside the loop (a probe
   * takes seconds); its result is in the knowledge for the next analysis.
   */
  private probeGateway(now: number): void {
    const g = this.options.gatewayProbe;
    const k = this.options.knowledge;
    const best = k.mesh.gateways.find((x) => x.best);
    if (!g || this.probing || !best || k.mesh.settings?.gwMode !== 'client' || now - this.lastProbeAt < (g.everyMs ?? 10_000)) return;
    this.lastProbeAt = now;
    this.probing = g.probe(best.originator)
      .catch((e: Error) => ({ ok: false, rttMs: null, detail: `probe failed: ${e.message}` }))
      .then((r) => {
        const prev = k.gatewayProbe;
        const failures = r.ok ? 0 : (prev && prev.originator === best.originator ? prev.failures : 0) + 1;
        k.gatewayProbe = { originator: best.originator, ...r, atMs: this.options.now(), failures };
        if (!r.ok && failures === 1) this.options.log.info(`gateway probe of ${best.originator}: ${r.detail}`);
      })
      .finally(() => (this.probing = null));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn, fn);
    this.turn = run.catch(() => {});
    return run;
  }

  /** One turn of the loop, after a successful poll (pollStartedAt: wall-clock ms, for its trace). */
  step(pollStartedAt = Date.now()): Promise<void> {
    return this.exclusive(() => this.turnOnce(pollStartedAt));
  }

  private async turnOnce(pollStartedAt: number): Promise<void> {
    const now = this.options.now();
    // Wall-clock marks for a trace, noted only while tracing is on (Date.now is the whole cost).
    const on = this.tracer.enabled;
    const marks: CycleMarks | null = on ? { pollStartedAt, analyzeAt: 0, analyzedAt: 0, planAt: 0, plannedAt: 0 } : null;
    this.probeGateway(now);
    this.baseline ??= await this.options.driver.settings();
    if (marks) marks.analyzeAt = Date.now();
    const analysis = this.analyzer.run(now);
    // What we silenced ourselves (a quarantined or steered neighbour) is not a new problem.
    const quarantined = [...this.executor.active('quarantine'), ...this.executor.active('steer-neighbour')].map((q) => q.target);
    this.findings = analysis.findings.filter(
      (f) => !(f.subject.neighbour && quarantined.some((t) => t.ifname === f.subject.ifname && t.neighbour === f.subject.neighbour)),
    );
    this.connectivity = analysis.connectivity;
    const keys = new Set(this.findings.map((f) => f.key));
    if (this.findings.some(isInstability)) keys.add(INSTABILITY_KEY);
    if (marks) marks.analyzedAt = Date.now();
    for (const r of await this.executor.review(analysis.connectivity, keys)) {
      this.counts[r.verdict === 'worse' ? 'rollbacks' : r.verdict === 'no-effect' ? 'noEffect' : r.verdict === 'failed' ? 'failed' : 'helped']++;
      if (r.verdict !== 'helped' && r.entry.findingKey !== INSTABILITY_KEY) this.planner.escalate(r.entry.findingKey);
    }
    const k = this.options.knowledge;
    const liveIfnames = new Set(k.mesh.neighbours.filter((n) => n.lastSeenMs < SILENT_AFTER_MS).map((n) => n.hardIfname));
    // The simulator has no enslaving, hence no primary interface to the plan (policies.ts).
    const primary = this.options.driver.kind === 'batman-adv' ? k.primaryIfname : null;
    if (marks) marks.planAt = Date.now();
    this.planned = this.planner.plan(this.findings, {
      nowMs: now, uptimeMs: this.options.uptimeMs(), startedMs: this.startedMs, liveIfnames, primary, journal: this.journal,
    });
    let cycle = null;
    if (marks) {
      marks.plannedAt = Date.now();
      const fresh = new Set([...keys].filter((k) => k !== INSTABILITY_KEY && !this.tracedKeys.has(k)));
      this.tracedKeys = keys;
      cycle = traceCycle(this.tracer, marks, this.findings, fresh, this.planned, analysis.connectivity);
    }
    try {
      for (const p of this.planned) {
        if (p.status !== 'go') continue;
        if (this.options.plan.dryRun) {
          cycle?.addEvent('dry-run', { 'x0tta6bl4.action': p.action! });
          this.recordDryRun(p);
          continue;
        }
        const e = await this.executor.start(p, analysis.connectivity, cycle?.context);
        if (e.state === 'failed') {
          this.counts.failed++;
          this.planner.escalate(p.findingKey);
        }
      }
    } finally {
      cycle?.end();
    }
  }

  /** Dry run switched at run time (MQTT `dry-run on|off`): the next plan already follows it. */
  setDryRun(on: boolean): void {
    this.options.plan.dryRun = on;
    this.planner.setDryRun(on);
  }

  /**
   * Runs one action now through the same commit-confirm path and the same safety rules as the
   * loop (operator command, tests); in dry run it is journalled and reported, not applied.
   * Throws ActionRefused with the rule that refused it.
   */
  force(action: ActionKind, target: ActionTarget, reason: string, parent?: SpanContext): Promise<JournalEntry> {
    return this.exclusive(async () => {
      const a = ACTIONS[action];
      const wants = a.target === 'none' ? '' : a.target === 'interface' ? '/IFNAME' : '/IFNAME/NEIGHBOUR';
      const given = target.neighbour !== undefined ? 'neighbour' : target.ifname !== undefined ? 'interface' : 'none';
      if (given !== a.target) throw new ActionRefused('bad-target', `${action} takes ${wants ? `a target: ${action}${wants}` : `no target: ${action}`}`);
      const step = { action, target, disruptive: a.disruptive };
      const refused = this.planner.admit(step, this.journal.all(), this.options.now());
      if (refused) throw new ActionRefused(refused.rule, refused.note);
      const planned: PlannedStep = { findingKey: `forced|${action}`, finding: null, reason, action, target, rung: a.rung, disruptive: a.disruptive, status: 'go', note: 'forced' };
      if (this.options.plan.dryRun) return this.recordDryRun(planned);
      const before = this.connectivity ?? { reachable: 0, recentReachable: 0, liveNeighbours: 0, gateway: 'n/a', quality: 0 };
      this.baseline ??= await this.options.driver.settings();
      return this.executor.start(planned, before, parent);
    });
  }

  private recordDryRun(p: PlannedStep): JournalEntry {
    const entry = this.journal.add({
      atMs: this.options.now(), action: p.action!, target: p.target, finding: p.finding?.kind ?? 'route-churn', findingKey: p.findingKey,
      reason: p.reason, evidence: p.finding?.evidence ?? {}, rung: p.rung, disruptive: p.disruptive, state: 'dry-run',
      revert: null, holdUntilMs: null, before: this.connectivity, after: null, outcome: 'dry run: not applied',
    }, this.options.now(), false);
    this.options.knowledge.addEvent('action', `dry run: would ${ACTIONS[p.action!].describe(p.target)}: ${p.reason}`, this.options.now());
    return entry;
  }

  status(): HealingStatus {
    return {
      dryRun: this.options.plan.dryRun,
      findings: this.findings,
      plan: this.planned,
      connectivity: this.connectivity,
      journal: this.journal.all().slice(-50),
      startupDelayS: Math.round(this.startupDelayMs / 1000),
      system: this.options.knowledge.system,
      externalChanges: [...this.externalChanges],
      gatewayProbe: this.options.knowledge.gatewayProbe,
    };
  }

  /** Prometheus lines of the loop, appended to the agent's /metrics. */
  metrics(node: string): string {
    const m = new MetricsText();
    const l = { node };
    const kinds = ['link-degrading', 'link-dying', 'link-dead', 'link-late', 'neighbour-flapping', 'gateway-lost', 'route-churn', 'interface-stuck', 'partition'];
    for (const kind of kinds)
      m.add('x0tta6bl4_findings', 'gauge', 'Current findings, by kind.', this.findings.filter((f) => f.kind === kind).length, { ...l, kind });
    const entries = this.journal.all();
    for (const state of ['verifying', 'holding', 'kept', 'restored', 'rolled-back', 'no-effect', 'failed', 'interrupted', 'superseded', 'dry-run'])
      m.add('x0tta6bl4_journal_entries', 'gauge', 'Actions in the journal (bounded), by state.', entries.filter((e) => e.state === state).length, { ...l, state });
    m.add('x0tta6bl4_actions_verdicts_total', 'counter', 'Actions judged since start, by verdict.', this.counts.helped, { ...l, verdict: 'helped' });
    m.add('x0tta6bl4_actions_verdicts_total', 'counter', 'Actions judged since start, by verdict.', this.counts.rollbacks, { ...l, verdict: 'worse' });
    m.add('x0tta6bl4_actions_verdicts_total', 'counter', 'Actions judged since start, by verdict.', this.counts.noEffect, { ...l, verdict: 'no-effect' });
    m.add('x0tta6bl4_actions_verdicts_total', 'counter', 'Actions judged since start, by verdict.', this.counts.failed, { ...l, verdict: 'failed' });
    m.add('x0tta6bl4_plan_steps', 'gauge', 'Planned steps, by status.', this.planned.filter((p) => p.status === 'blocked').length, { ...l, status: 'blocked' });
    m.add('x0tta6bl4_plan_steps', 'gauge', 'Planned steps, by status.', this.planned.filter((p) => p.status === 'in-flight').length, { ...l, status: 'in-flight' });
    m.add('x0tta6bl4_journal_writes_total', 'counter', 'Journal writes to storage.', this.journal.stats.writes, l);
    const sys = this.options.knowledge.system;
    if (sys) {
      m.add('x0tta6bl4_load1', 'gauge', 'Load average over 1 minute (/proc/loadavg).', sys.load1, l);
      m.add('x0tta6bl4_memory_total_bytes', 'gauge', 'MemTotal (/proc/meminfo).', sys.memTotalKb * 1024, l);
      m.add('x0tta6bl4_memory_available_bytes', 'gauge', 'MemAvailable (/proc/meminfo).', sys.memAvailableKb * 1024, l);
    }
    if (this.connectivity) {
      m.add('x0tta6bl4_reachable_originators', 'gauge', 'Originators with a fresh best route.', this.connectivity.reachable, l);
      m.add('x0tta6bl4_route_quality', 'gauge', 'Mean route score (0-1) of the best routes, WASM scoring.', this.connectivity.quality, l);
    }
    return m.toString();
  }
}
