// The watches between polls (rx-watch.ts, radio-watch.ts) run their check every few hundred
// milliseconds: each next one is timed from the end of the last, so a slow netlink read or
// echo never stacks checks up.
export class CheckLoop {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly check: () => Promise<void>, private readonly everyMs: number) {}

  start(): void {
    if (this.timer) return;
    const tick = () => {
      void this.check().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.everyMs);
      });
    };
    this.timer = setTimeout(tick, this.everyMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
