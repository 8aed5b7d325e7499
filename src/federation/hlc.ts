// Hybrid logical clock (Kulkarni et al. 2014): wall-clock milliseconds plus a counter, so
// timestamps order causally even when router clocks drift, and stay close to real time.
export interface HlcStamp {
  wall: number;
  counter: number;
}

export class HybridClock {
  private wall = 0;
  private counter = 0;

  constructor(private readonly physical: () => number = Date.now) {}

  /** A stamp for a local event, greater than every stamp seen or made before. */
  tick(): HlcStamp {
    const pt = this.physical();
    if (pt > this.wall) {
      this.wall = pt;
      this.counter = 0;
    } else {
      this.counter++;
    }
    return { wall: this.wall, counter: this.counter };
  }

  /** Takes a remote stamp into account (the caller has already refused far-future stamps). */
  observe(remote: HlcStamp): void {
    if (remote.wall > this.wall) {
      this.wall = remote.wall;
      this.counter = remote.counter;
    } else if (remote.wall === this.wall && remote.counter > this.counter) {
      this.counter = remote.counter;
    }
  }
}

export function compareStamps(a: HlcStamp, b: HlcStamp): number {
  return a.wall - b.wall || a.counter - b.counter;
}
