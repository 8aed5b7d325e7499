// Plan: walks each finding's ladder and decides, for the step it is at, whether it may run now.
// The safety rules live here, in one place: dry-run, boot grace, the random start-up delay,
// per-action cool-downs, the hourly limit on disruptive actions, never two disruptive actions at
// once, one step at a time per finding, reboot only when allowed.
import type { ActionKind, ActionTarget } from './actions/index.ts';
import { ACTIONS } from './actions/index.ts';
import type { Finding } from './findings.ts';
import type { Journal, JournalEntry } from './journal.ts';
import { ACT_AFTER_MS, INSTABILITY_KEY, INSTABILITY_KINDS, ladderFor, type Step } from './policies.ts';

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
  journal: Journal;
}

const HOUR_MS = 3_600_000;
const sameTarget = (a: ActionTarget, b: ActionTarget) => (a.ifname ?? '') === (b.ifname ?? '') && (a.neighbour ?? '') === (b.neighbour ?? '');
const LIVE: ReadonlySet<string> = new Set(['applying', 'verifying']);

export class Planner {
  /** Ladder position per finding key; forgotten when the finding has been clear for ladderMemoryMs. */
  private readonly position = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly o: PlanOptions) {}

  /** Dry run switched at run time (MQTT `dry-run on|off`). */
  setDryRun(on: boolean): void {
    this.o.dryRun = on;
  }

  /** The step at this finding's position did not help: the next one is due. */
  escalate(findingKey: string): void {
    this.position.set(findingKey, (this.position.get(findingKey) ?? 0) + 1);
  }

  plan(findings: Finding[], ctx: PlanContext): PlannedStep[] {
    const keys = new Set(findings.map((f) => f.key));
    const unstable = findings.filter((f) => INSTABILITY_KINDS.has(f.kind));
    if (unstable.length) keys.add(INSTABILITY_KEY);
    for (const k of keys) this.lastSeen.set(k, ctx.nowMs);
    for (const [k, at] of [...this.lastSeen]) {
      if (ctx.nowMs - at < (this.o.ladderMemoryMs ?? 600_000)) continue;
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
      const ladder = ladderFor(f, ctx.liveIfnames);
      if (ladder.length === 0) continue;
      const pos = this.position.get(f.key) ?? 0;
      wanted.push({ key: f.key, finding: f, reason: f.message, step: ladder[pos] ?? null, rung: pos });
    }

    let disruptiveBusy = inFlight.some((e) => e.disruptive);
    const kindsBusy = new Set(inFlight.map((e) => e.action));
    const budget = this.o.actionBudget ?? 10;
    const budgetWindow = this.o.budgetWindowMs ?? 600_000;
    let recent = entries.filter((e) => e.state !== 'dry-run' && ctx.nowMs - e.atMs < budgetWindow).length;
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
      const holding = entries.find((e) => e.state === 'holding' && e.action === w.step!.action && sameTarget(e.target, w.step!.target));
      const last = lastAttempt(entries, w.step.action, w.step.target);
      const cooldown = this.o.cooldownMs[w.step.action] ?? this.o.defaultCooldownMs;
      const disruptiveThisHour = entries.filter((e) => e.disruptive && e.state !== 'dry-run' && ctx.nowMs - e.atMs < HOUR_MS).length;
      if (mine) block(`waiting for ${mine.action} (#${mine.id}) to be verified`, 'in-flight');
      else if (holding) block(`${holding.action} (#${holding.id}) already in place`, 'in-flight');
      else if (w.finding && ctx.nowMs - w.finding.sinceMs < ACT_AFTER_MS[w.finding.kind])
        block(`finding must persist ${ACT_AFTER_MS[w.finding.kind] / 1000} s`);
      else if (ctx.uptimeMs < this.o.bootGraceMs) block(`boot grace: ${Math.ceil((this.o.bootGraceMs - ctx.uptimeMs) / 1000)} s left`);
      else if (ctx.nowMs - ctx.startedMs < this.o.startupDelayMs)
        block(`start-up delay: ${Math.ceil((this.o.startupDelayMs - (ctx.nowMs - ctx.startedMs)) / 1000)} s left`);
      else if (w.step.action === 'reboot' && !this.o.allowReboot) block('reboot is off (healing.allow_reboot)');
      else if (last && ctx.nowMs - last.atMs < cooldown) block(`cool-down: ${w.step.action} ran ${Math.round((ctx.nowMs - last.atMs) / 1000)} s ago`);
      else if (p.disruptive && disruptiveThisHour >= this.o.maxDisruptivePerHour)
        block(`${disruptiveThisHour} disruptive actions in the last hour (limit ${this.o.maxDisruptivePerHour})`);
      else if (p.disruptive && disruptiveBusy) block('another disruptive action is in progress');
      // One of a kind at a time: two quarantines at once can cut a node off before either is judged.
      else if (kindsBusy.has(w.step.action)) block(`another ${w.step.action} is being verified`);
      else if (!this.o.dryRun && recent >= budget) block(`${recent} actions in the last ${budgetWindow / 60_000} min (budget ${budget})`);
      if (p.status === 'go') {
        if (p.disruptive) disruptiveBusy = true;
        kindsBusy.add(w.step.action);
        recent++;
      }
      if (p.status === 'go' && this.o.dryRun) p.note = 'dry run: planned, not applied';
      out.push(p);
    }
    return out;
  }
}

function lastAttempt(entries: readonly JournalEntry[], action: ActionKind, target: ActionTarget): JournalEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.action === action && sameTarget(e.target, target)) return e;
  }
  return undefined;
}
