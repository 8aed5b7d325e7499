// How often refused commands are answered and logged. Refusals are cheap to provoke (anyone who
// may publish on the command topic can send junk), so each costs a token: a burst, then a steady
// rate. What goes unanswered is counted, and the next log line says how many were left out.
export class RefusalBudget {
  private tokens: number;
  private refilledAt: number;
  private skipped = 0;

  constructor(
    private readonly burst = 20,
    private readonly perSecond = 2,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  /** null: stay quiet about this one. Otherwise how many were left out since the last one spoken of. */
  take(now = Date.now()): { skipped: number } | null {
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) {
      this.skipped++;
      return null;
    }
    this.tokens--;
    const skipped = this.skipped;
    this.skipped = 0;
    return { skipped };
  }
}
