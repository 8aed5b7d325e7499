// The learning part of a running agent, in one object the agent wires once: after every monitor
// poll it turns the knowledge windows into feature vectors, labels them when their horizon has
// passed and keeps them in the bounded dataset; on the round clock it runs a federated round;
// and it answers "how likely is this link to die within H" for analysis and route scoring.
//
// Rounds are numbered by the clock (r = ⌊now / interval⌋), so every node of the fleet agrees on
// the round number without anyone announcing it, and a node that was away simply joins the
// current round (after asking its peers for the model when it is behind).
import type { Core, ModelSpec } from '../core/index.ts';
import type { Knowledge } from '../mapek/knowledge.ts';
import { FeatureTracker, FEATURE_COUNT, type ErrorCounters } from './features.ts';
import { HorizonLabeler } from './horizon-labeler.ts';
import { LocalDataset } from './local-dataset.ts';
import { FederatedLearner, type LearnerOptions, type RoundOutcome } from './federated-learner.ts';
import { InProcessHub, type RoundTransport } from './round-transport.ts';
import { predictAll } from './local-training.ts';
import { learningStatus, type LearningStatus } from './status.ts';
import { readSeedModel, type SeedModel } from './seed-model.ts';
import type { SpanContext, Tracer } from '../tracing/api.ts';

export interface LearningServiceOptions {
  core: Core;
  /** The federation's transport; null trains on local data only. */
  transport: RoundTransport | null;
  roundIntervalMs: number;
  /** Label horizon H (default 30 s). */
  horizonMs?: number;
  model?: ModelSpec;
  learner?: Omit<LearnerOptions, 'core' | 'transport' | 'data' | 'model'>;
  dataset?: { capacityPerClass?: number; holdoutPerClass?: number; seed?: number };
  now?: () => number;
  onRound?: (o: RoundOutcome) => void;
  /** Spans of each round (round-trace.ts); default none. */
  tracer?: Tracer;
  /** Seed model file (UCI learning.initial_model, seed-model.ts); '' or absent: the random init. */
  initialModel?: string;
}

/** How many labels of its own a seeded node needs before its failure rate weighs as much as the seed's (see failureProbabilities). */
export const SEED_PRIOR_LABELS = 1800;

export class LearningService {
  readonly learner: FederatedLearner;
  readonly data: LocalDataset;
  private readonly tracker = new FeatureTracker();
  private readonly labeler: HorizonLabeler;
  private readonly opts: LearningServiceOptions;
  private readonly now: () => number;
  private latest = new Map<string, Float32Array>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<RoundOutcome | null> | null = null;
  /** Rows dropped because a feature was not a finite number. */
  droppedRows = 0;
  /** The seed model in use, or why the configured one was refused (the agent runs on without it). */
  readonly seed: SeedModel | null = null;
  readonly seedError: string | null = null;

  constructor(opts: LearningServiceOptions) {
    if (!(opts.roundIntervalMs > 0)) throw new RangeError(`learning: round interval must be > 0 ms, got ${opts.roundIntervalMs}`);
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.labeler = new HorizonLabeler(opts.horizonMs ?? 30_000);
    this.data = new LocalDataset({ features: FEATURE_COUNT, ...(opts.dataset ?? {}) });
    const alone = opts.transport === null;
    this.learner = new FederatedLearner({
      ...(opts.learner ?? {}),
      core: opts.core,
      // alone: a hub with only this node, and the plain mean of the one update
      transport: opts.transport ?? new InProcessHub().connect('self'),
      data: this.data,
      ...(opts.tracer ? { tracer: opts.tracer } : {}),
      ...(opts.model ? { model: opts.model } : {}),
      ...(alone ? { aggregation: { rule: 'mean', f: 0, bucketing: 0 }, quorum: 1 } : {}),
    });
    if (opts.initialModel) {
      try {
        this.seed = readSeedModel(opts.initialModel, this.learner.model.spec, this.learner.d);
        this.learner.model.setParams(this.seed.params);
        // version 1: the model answers now; rounds go on from it
        this.learner.modelVersion = 1;
      } catch (e) {
        this.seedError = `initial_model ${opts.initialModel} refused (${(e as Error).message})`;
      }
    }
  }

  /**
   * After each monitor poll: features for every link, labels for the samples whose horizon passed.
   * Error counters: the ones given, else those the monitor recorded in the knowledge when its
   * counter reader returns error fields (see errorCountersOf), else none (the feature stays 0).
   */
  observe(k: Knowledge, counters?: ReadonlyMap<string, ErrorCounters>): void {
    const links = k.linkStatus();
    const c = counters ?? errorCountersOf(k);
    const feats = this.tracker.observe({ links, originators: k.mesh.originators, neighbours: k.mesh.neighbours, ...(c ? { counters: c } : {}) });
    const alive = new Map(links.map((l) => [`${l.hardIfname}/${l.neighbour}`, l.metric !== null]));
    // Answers only for links with a full window: the model is trained on full ones (the seed's
    // export drops each trace's first 30 polls), a part-filled window is input it never saw.
    const full = new Set(links.filter((l) => l.history.length >= this.tracker.window).map((l) => `${l.hardIfname}/${l.neighbour}`));
    this.latest = new Map(feats.filter((f) => full.has(f.key)).map((f) => [f.key, f.x]));
    for (const s of this.labeler.poll(this.now(), alive, feats)) {
      // a driver that reported a non-numeric metric must not take learning (or the agent) down
      if (s.x.every(Number.isFinite)) this.data.add(s.x, s.label);
      else this.droppedRows++;
    }
  }

  /**
   * Failure probability within the horizon for every link of the last poll ("ifname/neighbour"
   * → p), from the current model; empty before the model has been trained on anything.
   * The model learns from class-balanced batches (a 50 % prior); its odds are scaled back to the
   * failure rate this node has seen, so that p is a probability, not only a ranking.
   * That rate is a Beta prior updated by the node's labels: without a seed a flat one (1 of 2);
   * with a seed its base rate weighs as SEED_PRIOR_LABELS labels, because a fresh node's own
   * rate means nothing (after 100 healthy polls it would say 1 %, scaling every odds by 1/100
   * from noise); after that many labels of its own (about 10 minutes of 3 links) the local rate
   * has half the say, and then more and more as the site shows its own failure rate.
   */
  failureProbabilities(): Map<string, number> {
    const out = new Map<string, number>();
    if (this.learner.modelVersion === 0 || this.latest.size === 0) return out;
    const keys = [...this.latest.keys()];
    const x = new Float32Array(keys.length * FEATURE_COUNT);
    keys.forEach((k, i) => x.set(this.latest.get(k)!, i * FEATURE_COUNT));
    const p = predictAll(this.learner.model, x, keys.length);
    const c = this.data.counts();
    const m = this.seed ? SEED_PRIOR_LABELS : 2;
    const rate = (c.seenPositive + m * (this.seed?.baseRate ?? 0.5)) / (c.seenPositive + c.seenNegative + m);
    const priorOdds = rate / (1 - rate);
    keys.forEach((k, i) => {
      const q = Math.min(Math.max(p[i]!, 1e-7), 1 - 1e-7);
      const odds = (q / (1 - q)) * priorOdds;
      out.set(k, odds / (1 + odds));
    });
    return out;
  }

  /** The round the clock says it is. */
  currentRound(): number {
    return Math.floor(this.now() / this.opts.roundIntervalMs);
  }

  /** Runs the clock's current round now (catching up first when this node is behind); trace: the command that asked for it. */
  async runRound(trace?: SpanContext): Promise<RoundOutcome | null> {
    if (this.running) return this.running;
    this.running = (async () => {
      const r = this.currentRound();
      if (r < this.learner.round) return null; // this round already ran
      if (this.opts.transport && this.learner.round > 0 && r > this.learner.round + 1) await this.learner.requestCatchUp();
      const o = await this.learner.beginRound(Math.max(r, this.learner.round), trace);
      this.opts.onRound?.(o);
      return o;
    })().finally(() => (this.running = null));
    return this.running;
  }

  /** Runs a round at every boundary of the round clock until stop(). */
  start(): void {
    if (this.timer) return;
    const schedule = () => {
      const wait = this.opts.roundIntervalMs - (this.now() % this.opts.roundIntervalMs);
      this.timer = setTimeout(() => {
        void this.runRound().catch(() => null);
        schedule();
      }, wait);
      this.timer.unref?.();
    };
    schedule();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.learner.closeRound();
    await this.running;
  }

  /** initialModel: short, as the telemetry snapshot keeps the learning block under 1 KB; why a seed was refused is in /health. */
  status(): LearningStatus {
    return { ...learningStatus(this.learner, { horizonMs: this.labeler.horizonMs, roundTimeoutMs: this.opts.learner?.roundTimeoutMs }), initialModel: this.seedError ? 'refused' : this.seed && 'loaded' };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.learner.dispose();
  }
}

/**
 * The error counters of every hard interface as the monitor last recorded them: the knowledge
 * keeps what the counter reader returned, and a reader of /sys/class/net/IF/statistics that also
 * returns rx_errors/tx_errors (and the drops) makes them visible here. undefined when none has.
 */
export function errorCountersOf(k: Knowledge): ReadonlyMap<string, ErrorCounters> | undefined {
  let out: Map<string, ErrorCounters> | undefined;
  for (const i of k.mesh.interfaces ?? []) {
    const v = k.countersFrozenMs(i.ifname, 0)?.value as Partial<Record<keyof ErrorCounters, unknown>> | undefined;
    if (!v || typeof v.rxErrors !== 'number' || typeof v.txErrors !== 'number') continue;
    const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
    (out ??= new Map()).set(i.ifname, { rxErrors: num(v.rxErrors), txErrors: num(v.txErrors), rxDropped: num(v.rxDropped), txDropped: num(v.txDropped) });
  }
  return out;
}
