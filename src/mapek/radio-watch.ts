// Radio watch: between the monitor's polls, reads the station statistics (nl80211) of every Wi-Fi
// hard interface with a neighbour that carries routes, four times a second, into the knowledge.
// A fading radio link retries its frames, and its signal falls, seconds before batman-adv's
// OGMs (broadcast, never retried, averaged over 64 of them) show it; the radio sees each
// neighbour apart, so on a shared interface the others are left alone. When a link starts to
// look faded (radio-fade.ts) a poll is asked for at once: predict-link-death.ts then finds it
// dying and steers traffic off that one neighbour. Wired interfaces are never read.
import { linkKey, type Knowledge } from './knowledge.ts';
import { judgeRadio } from './radio-fade.ts';
import { RADIO_RECENT_MS, RADIO_WATCH_MS, SILENT_AFTER_MS } from './detection-timing.ts';
import type { StationStats } from '../mesh/radio-stations.ts';
import { CheckLoop } from './check-loop.ts';

export interface RadioWatchOptions {
  knowledge: Knowledge;
  /** The stations of a wireless interface; null for any other. */
  stations: (ifname: string) => Promise<StationStats[] | null>;
  pollSoon: () => void;
  now?: () => number;
  everyMs?: number;
}

export class RadioWatch {
  private readonly loop: CheckLoop;
  private readonly now: () => number;
  /** When each link was last found fading here (one early poll per episode). */
  private readonly fadingSince = new Map<string, number>();
  /** Station dumps read, and early polls asked (tests, /health). */
  readonly stats = { reads: 0, wireless: 0, fades: 0 };

  constructor(private readonly opts: RadioWatchOptions) {
    this.now = opts.now ?? Date.now;
    this.loop = new CheckLoop(() => this.check(), opts.everyMs ?? RADIO_WATCH_MS);
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** The interfaces worth reading, with their heard neighbours that are some route's next hop. */
  watched(): Map<string, Set<string>> {
    const { neighbours, originators } = this.opts.knowledge.mesh;
    const out = new Map<string, Set<string>>();
    for (const n of neighbours) {
      if (n.lastSeenMs >= SILENT_AFTER_MS) continue;
      if (!originators.some((o) => o.best && o.nextHop === n.neighbour && o.hardIfname === n.hardIfname)) continue;
      const set = out.get(n.hardIfname) ?? new Set<string>();
      set.add(n.neighbour);
      out.set(n.hardIfname, set);
    }
    return out;
  }

  /** One round: read every watched interface once, record its neighbours' stations, judge them. Exposed for tests. */
  async check(): Promise<void> {
    const k = this.opts.knowledge;
    for (const [ifname, neighbours] of this.watched()) {
      const stations = await this.opts.stations(ifname).catch(() => null);
      this.stats.reads++;
      if (!stations) continue;
      this.stats.wireless++;
      const at = this.now();
      for (const s of stations) {
        if (!neighbours.has(s.mac)) continue;
        const key = linkKey(ifname, s.mac);
        k.recordRadio(key, { at, txPackets: s.txPackets, txRetries: s.txRetries, txFailed: s.txFailed, signalDbm: s.signalDbm });
        const j = judgeRadio(k.radioOf(key), at);
        if (!j?.fading) continue;
        const since = this.fadingSince.get(key);
        if (since !== undefined && at - since <= RADIO_RECENT_MS) continue;
        this.fadingSince.set(key, at);
        this.stats.fades++;
        this.opts.pollSoon();
      }
    }
    for (const [key, since] of this.fadingSince) if (this.now() - since > 10 * RADIO_RECENT_MS) this.fadingSince.delete(key);
  }
}
