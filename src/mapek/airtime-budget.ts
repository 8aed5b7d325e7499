// The fast-OGM spell's airtime budget. A spell (orig-interval) makes this node's OGMs ten times
// as frequent, and every node of the mesh rebroadcasts them: with a spell fraction f of the time
// on every node, the mesh's OGM airtime grows by f·(base/fast − 1), 9·f at 1 s and 100 ms. On
// lossy but healthy links chance silences start spells again and again (docs/heal.md); the budget
// bounds what they can cost, whatever the link model: spells add at most
// budget/3600 · (base/fast − 1) over any hour (+15 % at the defaults), plus at most one verify
// window of overshoot, because a spell is refused once the budget is spent and ended when its
// hold runs into it.
import type { JournalEntry } from './journal.ts';

const HOUR_MS = 3_600_000;
/** Entry states in which the fast interval may still be set. */
const OPEN: ReadonlySet<JournalEntry['state']> = new Set(['applying', 'verifying', 'holding']);

/** Milliseconds of the last hour this node spent in fast-OGM spells (its orig-interval entries, dry runs aside). */
export function spellMsLastHour(entries: readonly JournalEntry[], nowMs: number): number {
  let ms = 0;
  for (const e of entries) {
    if (e.action !== 'orig-interval' || e.state === 'dry-run') continue;
    const end = OPEN.has(e.state) ? nowMs : e.updatedMs;
    ms += Math.max(0, Math.min(end, nowMs) - Math.max(e.atMs, nowMs - HOUR_MS));
  }
  return ms;
}

/** Why a spell may not start or go on now, or null while the budget lasts. budgetMs: per hour; undefined: no budget. */
export function airtimeRefusal(entries: readonly JournalEntry[], nowMs: number, budgetMs: number | undefined): string | null {
  if (budgetMs === undefined) return null;
  if (budgetMs <= 0) return 'fast OGM spells are off (healing.fast_ogm_budget 0)';
  const spent = spellMsLastHour(entries, nowMs);
  return spent >= budgetMs ? `airtime budget spent: fast OGMs for ${Math.round(spent / 1000)} s in the last hour (healing.fast_ogm_budget ${Math.round(budgetMs / 1000)} s)` : null;
}
