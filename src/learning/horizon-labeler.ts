// Labels the agent's own samples once their future is known: a feature vector taken at time t
// gets label 1 when its link was seen dead at some poll in (t, t + H]. "Seen dead" is what the
// agent can observe: the link has no current sample (the monitor records a gap when the
// neighbour was not heard for 5 OGM intervals) or the neighbour left the table.
// Samples of a link that is already dead are not kept: "dies within H" is trivial for them.
// Memory: per live link at most H / poll-interval pending samples.

export interface PendingSample {
  key: string;
  atMs: number;
  x: Float32Array;
}

export interface LabelledSample {
  key: string;
  atMs: number;
  x: Float32Array;
  label: 0 | 1;
}

export class HorizonLabeler {
  private readonly pending = new Map<string, PendingSample[]>();
  /** Per link: times of polls where it was seen dead, within the last horizon. */
  private readonly deadAt = new Map<string, number[]>();

  constructor(readonly horizonMs: number) {
    if (!(Number.isFinite(horizonMs) && horizonMs > 0)) throw new RangeError(`labeler: horizon must be > 0 ms, got ${String(horizonMs)}`);
  }

  /**
   * One poll at nowMs: `alive` maps each link key known this poll to whether it had a current
   * sample, `samples` are the feature vectors taken this poll (only alive links are kept).
   * Returns the samples whose horizon has passed, labelled.
   */
  poll(nowMs: number, alive: ReadonlyMap<string, boolean>, samples: readonly { key: string; x: Float32Array }[]): LabelledSample[] {
    for (const [key, up] of alive) if (!up) pushTo(this.deadAt, key, nowMs);
    // links that left the knowledge entirely count as dead from now on
    for (const key of this.pending.keys()) if (!alive.has(key)) pushTo(this.deadAt, key, nowMs);
    for (const s of samples) if (alive.get(s.key)) pushTo(this.pending, s.key, { key: s.key, atMs: nowMs, x: s.x });

    const out: LabelledSample[] = [];
    for (const [key, list] of this.pending) {
      const deaths = this.deadAt.get(key) ?? [];
      let i = 0;
      while (i < list.length && list[i]!.atMs + this.horizonMs <= nowMs) {
        const s = list[i]!;
        const died = deaths.some((t) => t > s.atMs && t <= s.atMs + this.horizonMs);
        out.push({ ...s, label: died ? 1 : 0 });
        i++;
      }
      if (i) list.splice(0, i);
      if (list.length === 0 && !alive.has(key)) this.pending.delete(key);
    }
    // death times older than the oldest pending sample can no longer matter
    for (const [key, deaths] of this.deadAt) {
      const oldest = this.pending.get(key)?.[0]?.atMs ?? nowMs;
      const keep = deaths.filter((t) => t > oldest);
      if (keep.length) this.deadAt.set(key, keep);
      else this.deadAt.delete(key);
    }
    return out;
  }

  get pendingCount(): number {
    let n = 0;
    for (const l of this.pending.values()) n += l.length;
    return n;
  }
}

function pushTo<T>(m: Map<string, T[]>, key: string, v: T): void {
  let l = m.get(key);
  if (!l) m.set(key, (l = []));
  l.push(v);
}
