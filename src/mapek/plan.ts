// Plan: walks each finding's ladder and decides, for the step it is at, whether it may run now.
// The safety rules live here, in one place: dry-run, boot grace, the random start-up delay,
// per-action cool-downs, the hourly limit on disruptive actions, never two disruptive actions at
// once, one step at a time per finding, reboot only when allowed.
import type { ActionKind, ActionTarget } from './actions/index.ts';
import { ACTIONS } from './actions/index.ts';
import type { Finding } from './findings.ts';
import { airtimeRefusal } from './airtime-budget.ts';
import type { Journal, JournalEntry } from './journal.ts';
import { ACT_AFTER_MS, INSTABILITY_KEY, isInstability, ladderFor, type Step } from './policies.ts';

export interface PlanOptions {
  dryRun: boolean;
  bootGraceMs: number;
  /** This node's random delay before its first action. */
  startupDelayMs: number;
  maxDisruptivePerHour: number;
  allowReboot: boolean;
  /** At most this many actions (not counting dry-run) within budgetWindowMs: the brake on storms. */
  actionBudget?: number;
  budgetWindowMs?: number;
  /** A cleared finding keeps its ladder position this long, so a finding that flickers does not restart at the bottom. */
  ladderMemoryMs?: number;
  /** Per-action cool-down after an attempt on the same target. */
  cooldownMs: Partial<Record<ActionKind, number>>;
  defaultCooldownMs: number;
  /** Fast-OGM spell time allowed per hour (airtime-budget.ts); undefined: unbounded. */
  fastOgmBudgetMs?: number;
}

export type StepStatus = 'go' | 'blocked' | 'in-flight' | 'exhausted';

export interface PlannedStep {
  findingKey: string;
  finding: Finding | null;
  reason: string;
  action: ActionKind | null;
  target: ActionTarget;
  rung: number;
  disruptive: boolean;
  status: StepStatus;
  /** Why it is blocked, or what it waits for. */
  note: string;
}

export interface PlanContext {
  nowMs: number;
  /** Milliseconds since the system booted. */
  uptimeMs: number;
  /** When this agent process started (the start-up delay counts from here). */
  startedMs: number;
  liveIfnames: ReadonlySet<string>;
  /** The kernel's primary hard interface (policies.ts ladderFor: the others can be re-enslaved); null or absent in the simulator. */
  primary?: string | null;
  journal: Journal;
}

const HOUR_MS = 3_600_000;
const sameTarget = (a: ActionTarget, b: ActionTarget) => (a.ifname ?? '') === (b.ifname ?? '') && (a.neighbour ?? '') === (b.neighbour ?? '');
const LIVE: ReadonlySet<string> = new Set(['applying', 'verifying']);

export class Planner {
  /** Ladder position per finding key; forgotten when the finding has been clear for ladderMemoryMs. */
  private readonly position = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly options: PlanOptions) {}

  /** Dry run switched at run time (MQTT `dry-run on|off`). */
  setDryRun(on: boolean): void {
    this.options.dryRun = on;
  }

  /** The step at this finding's position did not help: the next one is due. */
  escalate(findingKey: string): void {
    this.position.set(findingKey, (this.position.get(findingKey) ?? 0) + 1);
  }

  /**
   * The same rules for an operator's action (MQTT run-action): reboot only when allowed,
   * cool-downs, the hourly limit, one disruptive action at a time, one of a kind being verified,
   * the action budget. Boot grace and the start-up delay are left out: they spread the fleet's
   * own reactions to one event, and an operator's command is not one of those.
   */
  admit(step: Step, entries: readonly JournalEntry[], nowMs: number): Refusal | null {
    const inFlight = entries.filter((e) => LIVE.has(e.state));
    const busy: BusyState = {
      disruptiveBusy: inFlight.some((e) => e.disruptive),
      kindsBusy: new Set(inFlight.map((e) => e.action)),
      recent: entries.filter((e) => e.state !== 'dry-run' && nowMs - e.atMs < budgetWindow(this.options)).length,
    };
    // A dry run of a command does not hold back the real one that follows it.
    return safetyRefusal(step, entries, nowMs, this.options, busy, false);
  }

  plan(findings: Finding[], ctx: PlanContext): PlannedStep[] {
    const keys = new Set(findings.map((f) => f.key));
    const unstable = findings.filter(isInstability);
    if (unstable.length) keys.add(INSTABILITY_KEY);
    for (const k of keys) this.lastSeen.set(k, ctx.nowMs);
    for (const [k, at] of [...this.lastSeen]) {
      if (ctx.nowMs - at < (this.options.ladderMemoryMs ?? 600_000)) continue;
      this.lastSeen.delete(k);
      this.position.delete(k);
    }

    const entries = ctx.journal.all();
    const inFlight = entries.filter((e) => LIVE.has(e.state));
    const out: PlannedStep[] = [];
    const wanted: { key: string; finding: Finding | null; reason: string; step: Step | null; rung: number }[] = [];
    if (unstable.length) {
      wanted.push({ key: INSTABILITY_KEY, finding: unstable[0]!, reason: `instability: ${unstable.map((f) => f.message).join('; ')}`,
        step: (this.position.get(INSTABILITY_KEY) ?? 0) === 0 ? { action: 'orig-interval', target: {}, disruptive: false } : null, rung: 0 });
    }
    for (const f of findings) {
      const ladder = ladderFor(f, ctx.liveIfnames, ctx.primary ?? null);
      if (ladder.length === 0) continue;
      const pos = this.position.get(f.key) ?? 0;
      wanted.push({ key: f.key, finding: f, reason: f.message, step: ladder[pos] ?? null, rung: pos });
    }

    const busy: BusyState = {
      disruptiveBusy: inFlight.some((e) => e.disruptive),
      kindsBusy: new Set(inFlight.map((e) => e.action)),
      recent: entries.filter((e) => e.state !== 'dry-run' && ctx.nowMs - e.atMs < budgetWindow(this.options)).length,
    };
    for (const w of wanted) {
      const base = { findingKey: w.key, finding: w.finding, reason: w.reason };
      if (!w.step) {
        out.push({ ...base, action: null, target: {}, rung: w.rung, disruptive: false, status: 'exhausted', note: 'every step of the ladder tried' });
        continue;
      }
      const action = ACTIONS[w.step.action];
      const p: PlannedStep = { ...base, action: w.step.action, target: w.step.target, rung: action.rung, disruptive: w.step.disruptive, status: 'go', note: '' };
      const block = (note: string, status: StepStatus = 'blocked') => {
        p.status = status;
        p.note = note;
      };
      const mine = inFlight.find((e) => e.findingKey === w.key);
      const holding = holdingEntry(entries, w.step);
      if (mine) block(`waiting for ${mine.action} (#${mine.id}) to be verified`, 'in-flight');
      else if (holding) block(`${holding.action} (#${holding.id}) already in place`, 'in-flight');
      else if (w.finding && ctx.nowMs - w.finding.sinceMs < ACT_AFTER_MS[w.finding.kind])
        block(`finding must persist ${ACT_AFTER_MS[w.finding.kind] / 1000} s`);
      else if (ctx.uptimeMs < this.options.bootGraceMs) block(`boot grace: ${Math.ceil((this.options.bootGraceMs - ctx.uptimeMs) / 1000)} s left`);
      else if (ctx.nowMs - ctx.startedMs < this.options.startupDelayMs)
        block(`start-up delay: ${Math.ceil((this.options.startupDelayMs - (ctx.nowMs - ctx.startedMs)) / 1000)} s left`);
      else {
        const refused = safetyRefusal(w.step, entries, ctx.nowMs, this.options, busy, true);
        if (refused) block(refused.note);
      }
      if (p.status === 'go') {
        if (p.disruptive) busy.disruptiveBusy = true;
        busy.kindsBusy.add(w.step.action);
        busy.recent++;
      }
      if (p.status === 'go' && this.options.dryRun) p.note = 'dry run: planned, not applied';
      out.push(p);
    }
    return out;
  }
}

/** Which rule keeps a step from running: `disabled` (not allowed at all) or `busy` (not now). */
export interface Refusal {
  rule: 'disabled' | 'busy';
  note: string;
}

interface BusyState {
  disruptiveBusy: boolean;
  kindsBusy: Set<ActionKind>;
  /** Actions (not dry runs) within the budget window, those planned 'go' this turn included. */
  recent: number;
}

const budgetWindow = (options: PlanOptions) => options.budgetWindowMs ?? 600_000;

/** The safety rules a step must pass, for the loop's plan and for an operator's command alike. */
function safetyRefusal(step: Step, entries: readonly JournalEntry[], nowMs: number, options: PlanOptions, busy: BusyState, dryRunCools: boolean): Refusal | null {
  const holding = holdingEntry(entries, step);
  const last = lastAttempt(entries, step.action, step.target, dryRunCools);
  const cooldown = options.cooldownMs[step.action] ?? options.defaultCooldownMs;
  const disruptiveThisHour = entries.filter((e) => e.disruptive && e.state !== 'dry-run' && nowMs - e.atMs < HOUR_MS).length;
  const budget = options.actionBudget ?? 10;
  if (holding) return { rule: 'busy', note: `${holding.action} (#${holding.id}) already in place` };
  if (step.action === 'reboot' && !options.allowReboot) return { rule: 'disabled', note: 'reboot is off (healing.allow_reboot)' };
  const airtime = step.action === 'orig-interval' ? airtimeRefusal(entries, nowMs, options.fastOgmBudgetMs) : null;
  if (airtime) return { rule: options.fastOgmBudgetMs! <= 0 ? 'disabled' : 'busy', note: airtime };
  if (last && nowMs - last.atMs < cooldown)
    return { rule: 'busy', note: `cool-down: ${step.action} ran ${Math.round((nowMs - last.atMs) / 1000)} s ago (cool-down ${Math.round(cooldown / 1000)} s)` };
  if (step.disruptive && disruptiveThisHour >= options.maxDisruptivePerHour)
    return { rule: 'busy', note: `hourly limit of ${options.maxDisruptivePerHour} disruptive actions reached (${disruptiveThisHour} in the last hour)` };
  if (step.disruptive && busy.disruptiveBusy) return { rule: 'busy', note: 'another disruptive action is in progress' };
  // One of a kind at a time: two quarantines at once can cut a node off before either is judged.
  if (busy.kindsBusy.has(step.action)) return { rule: 'busy', note: `another ${step.action} is being verified` };
  if (!options.dryRun && busy.recent >= budget) return { rule: 'busy', note: `${busy.recent} actions in the last ${budgetWindow(options) / 60_000} min (budget ${budget})` };
  return null;
}

function holdingEntry(entries: readonly JournalEntry[], step: Step): JournalEntry | undefined {
  return entries.find((e) => e.state === 'holding' && e.action === step.action && sameTarget(e.target, step.target));
}

function lastAttempt(entries: readonly JournalEntry[], action: ActionKind, target: ActionTarget, dryRunCools: boolean): JournalEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.action === action && sameTarget(e.target, target) && (dryRunCools || e.state !== 'dry-run')) return e;
  }
  return undefined;
}
