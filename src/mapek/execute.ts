// Execute: applies a planned step with commit-confirm. Journal first (with what revert needs),
// then apply, then check the effect is in place; after the verify window, compare connectivity
// with before: worse → roll back; helped → keep (temporary changes for their hold time);
// no effect → undo what can be undone and let the plan escalate.
import { ACTIONS, type ActionContext, type ActionKind, type ActionTarget } from './actions/index.ts';
import { SupersededError } from './actions/action.ts';
import type { Connectivity } from './findings.ts';
import type { Journal, JournalEntry } from './journal.ts';
import type { PlannedStep } from './plan.ts';
import { INSTABILITY_KEY } from './policies.ts';
import { airtimeRefusal } from './airtime-budget.ts';
import { NOOP_TRACER, type Span, type SpanContext, type Tracer } from '../tracing/api.ts';
import { entryTrace, startEntrySpan, startExecuteSpan } from './cycle-trace.ts';

export interface ExecuteOptions {
  verifyWindowMs: number;
  holdMs: number;
  quarantineMs: number;
  /** Fast-OGM spell time allowed per hour (airtime-budget.ts): a held spell ends when it is spent. */
  fastOgmBudgetMs?: number;
}

export type Verdict = 'helped' | 'worse' | 'no-effect' | 'failed';

/**
 * A mesh-wide tuning held for a spell ends this long after the last sign of instability, before
 * its hold if that comes first: faster OGMs cost every node in the mesh, and once nothing is
 * failing they speed up nothing.
 */
export const SPELL_QUIET_MS = 30_000;

export interface Review {
  entry: JournalEntry;
  verdict: Verdict;
}

type Report = (kind: 'action' | 'rollback' | 'finding', message: string) => void;

export function judge(before: Connectivity, after: Connectivity, cleared: boolean, intermittent = false): Exclude<Verdict, 'failed'> {
  // An intermittent subject (a flapping link) is judged against what it gave while it was up,
  // not against the instant the action happened to start in.
  const was = intermittent ? Math.max(before.reachable, before.recentReachable) : before.reachable;
  // A fifth of the originators may go without harm: a secondary interface's originator is only
  // announced two hops far, so steering or a quarantine can hide it while every node stays reachable.
  // Quality is a mean over the reachable originators: compared as totals over the larger count,
  // so that routes regained (longer, lower-scored detours) are not read as a loss of quality.
  const n = Math.max(before.reachable, after.reachable, 1);
  const quality = (after.quality * after.reachable - before.quality * before.reachable) / n;
  if (after.reachable < Math.floor(was * 0.8) || (after.reachable === 0 && was > 0) || (before.gateway === 'ok' && after.gateway === 'lost') || quality < -0.1) return 'worse';
  if (cleared || after.reachable > before.reachable || (before.gateway === 'lost' && after.gateway === 'ok') || quality > 0.05) return 'helped';
  return 'no-effect';
}

export class Executor {
  /** When an instability finding was last active (a spell's mesh-wide tuning ends after it). */
  private unstableAt = -Infinity;

  constructor(
    private readonly journal: Journal,
    private readonly ctx: () => ActionContext,
    private readonly options: ExecuteOptions,
    private readonly report: Report,
    private readonly now: () => number,
    private readonly tracer: Tracer = NOOP_TRACER,
  ) {}

  /**
   * Applies one step; the entry ends 'verifying', or 'failed' with the reason. parent: the trace
   * it belongs to (the loop's cycle, an operator's command); its span's context stays in the entry.
   */
  async start(step: PlannedStep, before: Connectivity, parent?: SpanContext): Promise<JournalEntry> {
    const span = startExecuteSpan(this.tracer, step, parent);
    try {
      const entry = await this.apply(step, before, span);
      span?.setAttribute('x0tta6bl4.journal.id', entry.id);
      span?.setAttribute('x0tta6bl4.state', entry.state);
      if (entry.state === 'failed') span?.setStatus('error', entry.outcome ?? 'failed');
      return entry;
    } catch (e) {
      span?.setStatus('error', msg(e));
      throw e;
    } finally {
      span?.end();
    }
  }

  private async apply(step: PlannedStep, before: Connectivity, span: Span | null): Promise<JournalEntry> {
    const kind = step.action!;
    const action = ACTIONS[kind];
    const base = {
      atMs: this.now(), action: kind, target: step.target, finding: step.finding?.kind ?? 'route-churn',
      findingKey: step.findingKey, reason: step.reason, evidence: step.finding?.evidence ?? {}, rung: action.rung,
      disruptive: step.disruptive, before, after: null, holdUntilMs: null, ...entryTrace(span),
    } as const;
    const ctx = this.ctx();
    let revert = null;
    try {
      revert = await action.prepare(ctx, step.target);
    } catch (e) {
      return this.journal.add({ ...base, state: 'failed', revert: null, outcome: `not applicable: ${msg(e)}` }, this.now(), false);
    }
    // Journaled before anything changes: a crash from here on is seen, and undone, at the next start.
    const entry = this.journal.add({ ...base, state: 'applying', revert, outcome: null }, this.now(), true);
    this.report('action', `${action.describe(step.target)} (#${entry.id}, rung ${action.rung}${step.disruptive ? ', disruptive' : ''}): ${step.reason}`);
    try {
      await action.apply(ctx, step.target);
      span?.addEvent('applied');
      const why = await action.check(ctx, step.target, revert);
      if (why) throw new Error(`effect not in place: ${why}`);
    } catch (e) {
      await this.undo(entry).catch(() => {});
      this.journal.update(entry, { state: 'failed', outcome: msg(e) }, this.now(), false);
      this.report('finding', `${kind} #${entry.id} failed: ${msg(e)}`);
      return entry;
    }
    this.journal.update(entry, { state: 'verifying' }, this.now(), false);
    return entry;
  }

  /** Decides every entry whose verify window has passed, and ends holds that are due. */
  async review(after: Connectivity, activeKeys: ReadonlySet<string>): Promise<Review[]> {
    const now = this.now();
    if (activeKeys.has(INSTABILITY_KEY)) this.unstableAt = now;
    const out: Review[] = [];
    for (const entry of this.journal.all().filter((e) => e.state === 'verifying' && now - e.atMs >= this.options.verifyWindowMs)) {
      // Steering a neighbour lowers its TQ on purpose (route scores fall with it): judged by reachability only.
      const seen = entry.action === 'steer-neighbour' ? { ...after, quality: entry.before!.quality } : after;
      let verdict: Verdict = judge(entry.before!, seen, !activeKeys.has(entry.findingKey), entry.finding === 'neighbour-flapping');
      // A mesh-wide tuning answers a spell, not one finding: unless it hurt, it runs its hold.
      if (verdict === 'no-effect' && entry.findingKey === INSTABILITY_KEY) verdict = 'helped';
      // The verify span joins the action's trace (kept in the entry); keep or roll back goes under it.
      const verify = startEntrySpan(this.tracer, 'mapek.verify', entry, {
        'x0tta6bl4.verdict': verdict, 'x0tta6bl4.reachable.before': entry.before!.reachable, 'x0tta6bl4.reachable.after': after.reachable,
        'x0tta6bl4.quality.before': entry.before!.quality, 'x0tta6bl4.quality.after': after.quality,
      });
      const decision = verify && startEntrySpan(this.tracer, verdict === 'helped' ? 'mapek.keep' : 'mapek.rollback', entry, { 'x0tta6bl4.verdict': verdict }, verify.context);
      try {
        verdict = await this.decide(entry, verdict, after, now);
      } finally {
        for (const s of [decision, verify]) {
          s?.setAttribute('x0tta6bl4.state', entry.state);
          if (verdict === 'failed') s?.setStatus('error', entry.outcome ?? 'failed');
          s?.end();
        }
      }
      out.push({ entry, verdict });
    }
    for (const entry of this.journal.all().filter((e) => e.state === 'holding' && e.holdUntilMs !== null)) {
      const airtime = entry.action === 'orig-interval' ? airtimeRefusal(this.journal.all(), now, this.options.fastOgmBudgetMs) : null;
      if (now >= entry.holdUntilMs!) await this.close(entry, 'hold ended');
      else if (airtime) await this.close(entry, airtime);
      else if (entry.findingKey === INSTABILITY_KEY && now - Math.max(this.unstableAt, entry.atMs) >= SPELL_QUIET_MS) {
        await this.close(entry, `spell over: no instability for ${SPELL_QUIET_MS / 1000} s`);
      }
    }
    this.journal.maybeFlush(now);
    return out;
  }

  /** Keeps or undoes one entry whose verify window has passed; the verdict, 'failed' when the undo failed. */
  private async decide(entry: JournalEntry, verdict: Verdict, after: Connectivity, now: number): Promise<Verdict> {
    const action = ACTIONS[entry.action];
    const summary = `reachable ${entry.before!.reachable} → ${after.reachable}, quality ${entry.before!.quality} → ${after.quality}`;
    if (verdict === 'helped') {
      const temporary = action.temporary && entry.revert !== null;
      const hold = entry.action === 'quarantine' ? this.options.quarantineMs : this.options.holdMs;
      this.journal.update(entry, { state: temporary ? 'holding' : 'kept', after, outcome: `helped: ${summary}`, holdUntilMs: temporary ? now + hold : null }, now, temporary);
      return verdict;
    }
    try {
      await this.undo(entry);
    } catch (e) {
      if (e instanceof SupersededError) {
        this.supersede(entry, `${verdict === 'worse' ? 'worse' : 'no effect'}, not undone: ${e.message}`);
        return verdict;
      }
      this.journal.update(entry, { state: 'failed', after, outcome: `failed: undo failed: ${msg(e)}` }, now, true);
      this.report('finding', `undo of ${entry.action} #${entry.id} failed: ${msg(e)}`);
      return 'failed';
    }
    const undone = entry.revert !== null && action.revert !== undefined;
    if (verdict === 'worse') {
      this.journal.update(entry, { state: 'rolled-back', after, outcome: `worse: ${summary}` }, now, false);
      this.report('rollback', `${entry.action} #${entry.id} made things worse (${summary})${undone ? ': rolled back' : ''}`);
    } else {
      this.journal.update(entry, { state: 'no-effect', after, outcome: `no effect${undone ? ', undone' : ''}: ${summary}` }, now, false);
      this.report('action', `${entry.action} #${entry.id} did not help${undone ? ', undone' : ''} (${summary})`);
    }
    return verdict;
  }

  /** Undoes every open entry: at shutdown, and at start for what a previous run left open. */
  async restoreAll(why: string): Promise<void> {
    for (const entry of this.journal.open()) {
      if (entry.state === 'applying') {
        // Interrupted mid-apply: undone where possible, and it stays in the journal as an attempt,
        // so cool-downs and the hourly limit keep it from being repeated blindly.
        let outcome = why;
        try {
          await this.undo(entry);
          if (entry.revert !== null) outcome += '; undone';
        } catch (e) {
          outcome += e instanceof SupersededError ? `; not undone: ${e.message}` : `; undo failed: ${msg(e)}`;
        }
        this.journal.update(entry, { state: 'interrupted', outcome }, this.now(), false);
        this.report('action', `${entry.action} #${entry.id} was interrupted (${outcome})`);
        continue;
      }
      await this.close(entry, why);
    }
    this.journal.flush(this.now());
  }

  /** Ends a temporary change now (operator request, or a hold that ended). */
  private async close(entry: JournalEntry, why: string): Promise<void> {
    const span = startEntrySpan(this.tracer, 'mapek.restore', entry, { 'x0tta6bl4.reason': why });
    try {
      await this.closeEntry(entry, why);
    } finally {
      span?.setAttribute('x0tta6bl4.state', entry.state);
      if (entry.state === 'failed') span?.setStatus('error', entry.outcome ?? 'failed');
      span?.end();
    }
  }

  private async closeEntry(entry: JournalEntry, why: string): Promise<void> {
    try {
      await this.undo(entry);
      this.journal.update(entry, { state: 'restored', outcome: `${entry.outcome ? `${entry.outcome}; ` : ''}restored: ${why}` }, this.now(), false);
      this.report('action', `${entry.action} #${entry.id} undone: ${why}`);
    } catch (e) {
      if (e instanceof SupersededError) return this.supersede(entry, `not restored (${why}): ${e.message}`);
      this.journal.update(entry, { state: 'failed', outcome: `restore failed (${why}): ${msg(e)}` }, this.now(), true);
      this.report('finding', `restoring ${entry.action} #${entry.id} failed: ${msg(e)}`);
    }
  }

  /** Someone else changed what the action set: their value stays, the entry is closed. */
  private supersede(entry: JournalEntry, outcome: string): void {
    this.journal.update(entry, { state: 'superseded', outcome: `${entry.outcome ? `${entry.outcome}; ` : ''}${outcome}` }, this.now(), false);
    this.report('action', `${entry.action} #${entry.id} left as changed by someone else: ${outcome}`);
  }

  private async undo(entry: JournalEntry): Promise<void> {
    const action = ACTIONS[entry.action];
    if (entry.revert !== null && action.revert) await action.revert(this.ctx(), entry.target, entry.revert);
  }

  /** Open entries of an action on a target: analysis ignores what we silenced ourselves. */
  active(kind: ActionKind): { target: ActionTarget; entry: JournalEntry }[] {
    return this.journal.all().filter((e) => e.action === kind && (e.state === 'verifying' || e.state === 'holding' || e.state === 'applying')).map((entry) => ({ target: entry.target, entry }));
  }
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));
