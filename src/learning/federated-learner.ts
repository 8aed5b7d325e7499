// One node's side of federated learning without a coordinator. Every node runs the same
// rounds: train locally in the WASM core from the current model, publish its update for round
// r, collect admitted peers' updates for r until a quorum or a timeout, aggregate its own and
// theirs with the configured robust rule (in the core), apply the result. Nobody decides for
// the others: each node aggregates what it heard, so one missing or late peer delays no one.
//
// What is exchanged: the model delta of the round's local training, smoothed by worker-side
// momentum (Karimireddy et al. 2021: m ← βm + (1−β)Δ, send m), optionally clipped and noised
// (privacy.ts). The aggregate is added to the model; the model version counts applied rounds.
//
// Defences at the message level, each with a named rejection: malformed bytes, a sender field
// that is not the authenticated peer (replay of another peer's message), a peer outside the
// admitted set, a second message for the same round (replay, equivocation), a round already
// closed (late) or too far ahead, a vector of the wrong length or with NaN/∞, and more messages
// per peer and round than the protocol needs (flooding). State per peer is bounded.
import type { Core, Model, ModelSpec } from '../core/index.ts';
import { Prng } from '../mesh/simulator/prng.ts';
import type { RoundTransport } from './round-transport.ts';
import { decodeMessage, encodeMessage, LearningWireError, type LearningMessage } from './wire.ts';
import { DEFAULT_RULE, RoundAggregator, type RuleConfig } from './round-aggregation.ts';
import { trainLocal, evaluateAuc, type LocalTrainingOptions } from './local-training.ts';
import type { LocalDataset } from './local-dataset.ts';
import { FEATURE_COUNT } from './features.ts';
import { checkDp, l2, privatize, type DpOptions } from './privacy.ts';
import { SecureRound } from './secure-aggregation.ts';
import { RoundTrace } from './round-trace.ts';
import type { SpanContext, Tracer } from '../tracing/api.ts';

export type RejectReason =
  | 'malformed'
  | 'sender-mismatch'
  | 'not-admitted'
  | 'duplicate'
  | 'stale'
  | 'too-far-ahead'
  | 'wrong-length'
  | 'non-finite'
  | 'flooding'
  | 'wrong-type';

export interface RejectedMessage {
  round: number;
  peer: string;
  reason: RejectReason;
  detail: string;
}

export interface RoundOutcome {
  round: number;
  /** Updates aggregated or offered, own included. */
  heard: number;
  peersHeard: string[];
  applied: boolean;
  /** Why the aggregate was not applied (too few updates for the rule's guarantee, ...). */
  skipped?: string;
  ruleUsed?: string;
  closedBy: 'quorum' | 'timeout' | 'manual';
  /** Held-out AUC after the round (NaN when the held-out set lacks a class). */
  auc: number;
  modelVersion: number;
  localLoss: number;
}

export interface LearnerOptions {
  core: Core;
  transport: RoundTransport;
  data: LocalDataset;
  /** Default: MLP with 8 hidden units over the link features. Must be the same fleet-wide. */
  model?: ModelSpec;
  /** Seed of the initial model, the same on every node so that all start from one model (default 1). */
  modelSeed?: number;
  aggregation?: Partial<RuleConfig>;
  /** Worker momentum β ∈ [0, 1) (default 0.9; 0 sends the raw delta). */
  workerMomentum?: number;
  training?: LocalTrainingOptions;
  /** Round closes after this long even without a quorum (default 10 s). */
  roundTimeoutMs?: number;
  /** Close as soon as this many updates (own included) are in; default: all peers admitted at round start, plus self. */
  quorum?: number;
  /** Rounds ahead of the current one whose early updates are buffered (default 2). */
  maxAhead?: number;
  /** Messages per peer and round beyond which the rest are dropped as flooding (default 16). */
  maxMessagesPerRound?: number;
  dp?: DpOptions | null;
  /**
   * Secure aggregation (secure-aggregation.ts): peers' individual updates are never seen, only
   * their sum. Needs a rule that can work on the sum alone ('centered-clipping': the step is
   * clipped to clipNorm around the last aggregate; 'norm-clipping': the mean is clipped to
   * clipNorm). clipNorm bounds every sender's update (default: the DP clip norm).
   */
  secure?: { clipNorm?: number; phaseTimeoutMs?: number } | null;
  /** Accept messages only from peers for which this returns true (default: transport.peers()). */
  admitted?: (peer: string) => boolean;
  /** Evaluate the held-out AUC after every k-th round (default 1; 0: only when evaluate() is called). */
  evaluateEvery?: number;
  /** Held-out rows to report quality on (default: the dataset's own held-out reservoir). */
  evaluation?: { x: Float32Array; y: Uint8Array };
  seed?: number;
  /** Collect model answers this long when catching up (default 2 s). */
  catchUpWindowMs?: number;
  timers?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  /** Spans of each round (round-trace.ts); default none. */
  tracer?: Tracer;
}

interface OpenRound {
  round: number;
  updates: Map<string, Float32Array>;
  quorum: number;
  timer: ReturnType<typeof setTimeout> | null;
  resolve: (o: RoundOutcome) => void;
  promise: Promise<RoundOutcome>;
  base: Float32Array;
  localLoss: number;
  trace: RoundTrace | null;
}

const RECENT_REJECTIONS = 50;

export class FederatedLearner {
  readonly model: Model;
  readonly self: string;
  readonly rule: RuleConfig;
  readonly workerMomentum: number;
  readonly dp: DpOptions | null;
  /** The round that is open or will open next. */
  round = 0;
  /** Aggregates applied since the initial model (what catch-up compares). */
  modelVersion = 0;
  lastOutcome: RoundOutcome | null = null;
  catchUps = 0;
  readonly rejectedByReason = new Map<RejectReason, number>();
  readonly recentRejections: RejectedMessage[] = [];

  private readonly opts: LearnerOptions;
  private readonly aggregator: RoundAggregator;
  private readonly rng: Prng;
  private readonly momentum: Float32Array;
  private center: Float32Array | null = null;
  private open: OpenRound | null = null;
  /** Early updates: round → sender → vector (bounded: maxAhead rounds × one per peer). */
  private readonly early = new Map<number, Map<string, Float32Array>>();
  /** Messages per peer in the current window of rounds (flooding). */
  private readonly perPeer = new Map<string, number>();
  private readonly seen = new Set<string>();
  private catchUp: { answers: Map<string, { version: number; round: number; params: Float32Array }>; done: Promise<boolean> } | null = null;
  private readonly unsubscribe: () => void;
  private readonly timers: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  private lastAuc = NaN;
  private secureRound: SecureRound | null = null;
  private answeredRound = -1;
  /** Secure-mode messages that came before their round opened: round → "peer/type" → message. */
  private readonly earlySecure = new Map<number, Map<string, { m: LearningMessage; from: string }>>();
  /** Trace contexts of updates that came before their round opened ("peer/round"), for the collect span's links. */
  private readonly earlyTrace = new Map<string, SpanContext>();
  readonly secureClipNorm: number | null;

  constructor(opts: LearnerOptions) {
    this.opts = opts;
    this.self = opts.transport.self;
    const spec = opts.model ?? { kind: 'mlp', features: FEATURE_COUNT, hidden: 8 };
    if (spec.features !== opts.data.features) throw new RangeError(`learner: model has ${spec.features} features, data ${opts.data.features}`);
    this.model = opts.core.model(spec, { maxBatch: 256, seed: opts.modelSeed ?? 1 });
    this.rule = { ...DEFAULT_RULE, ...(opts.aggregation ?? {}) };
    checkRule(this.rule);
    this.workerMomentum = opts.workerMomentum ?? 0.9;
    if (!(this.workerMomentum >= 0 && this.workerMomentum < 1)) throw new RangeError(`learner: worker momentum must be in [0, 1), got ${this.workerMomentum}`);
    this.dp = opts.dp ? checkDp(opts.dp) : null;
    if (opts.secure) {
      if (this.rule.rule !== 'centered-clipping' && this.rule.rule !== 'norm-clipping') {
        throw new RangeError(`learner: secure aggregation shows only the sum of the updates; ${this.rule.rule} needs each update (use centered-clipping or norm-clipping)`);
      }
      const c = opts.secure.clipNorm ?? this.dp?.clipNorm;
      if (c === undefined || !(c > 0)) throw new RangeError('learner: secure aggregation needs a clip norm (secure.clipNorm or dp.clipNorm)');
      this.secureClipNorm = c;
    } else this.secureClipNorm = null;
    this.aggregator = new RoundAggregator(opts.core, 32, this.model.size);
    this.rng = new Prng(opts.seed ?? hashString(this.self));
    this.momentum = new Float32Array(this.model.size);
    this.timers = opts.timers ?? { setTimeout, clearTimeout };
    this.unsubscribe = opts.transport.subscribe((bytes, from, trace) => {
      try {
        this.receive(bytes, from, trace);
      } catch (e) {
        // a bug must not take the node down with it; the message is dropped and counted
        this.reject(this.round, from, 'malformed', `handler error: ${(e as Error).message}`);
      }
    });
  }

  get d(): number {
    return this.model.size;
  }

  /** A copy of the current model parameters. */
  parameters(): Float32Array {
    return this.model.params().slice();
  }

  /** Held-out AUC of the current model. */
  evaluate(): number {
    const ev = this.opts.evaluation ?? this.opts.data.holdout();
    this.lastAuc = evaluateAuc(this.model, ev.x, ev.y);
    return this.lastAuc;
  }

  get heldOutAuc(): number {
    return this.lastAuc;
  }

  dataCounts(): ReturnType<LocalDataset['counts']> {
    return this.opts.data.counts();
  }

  peersAdmitted(): number {
    return this.opts.transport.peers().length;
  }

  /**
   * Opens round r (default: the next one): trains locally, publishes the update, and resolves
   * when the round closes (quorum, timeout, or closeRound()). An open earlier round closes first.
   */
  async beginRound(r: number = this.round, parent?: SpanContext): Promise<RoundOutcome> {
    if (!Number.isInteger(r) || r < this.round) throw new RangeError(`learner: round ${r} is already past (current ${this.round})`);
    if (this.open) this.close('timeout');
    this.round = r;
    const trace = RoundTrace.begin(this.opts.tracer, r, parent, this.secureClipNorm !== null ? 'secure' : 'plain');
    if (this.secureClipNorm !== null) return this.secureRoundRun(r, trace);
    const update = trace ? trace.phase('learning.train', () => this.localUpdate(), (u) => ({ 'x0tta6bl4.learning.loss': u.loss })) : this.localUpdate();
    const base = this.parameters();
    const quorum = this.opts.quorum ?? this.opts.transport.peers().length + 1;
    let resolve!: (o: RoundOutcome) => void;
    const promise = new Promise<RoundOutcome>((res) => (resolve = res));
    const open: OpenRound = { round: r, updates: new Map([[this.self, update.sent]]), quorum, timer: null, resolve, promise, base, localLoss: update.loss, trace };
    this.open = open;
    trace?.startCollect(quorum);
    for (const [sender, v] of this.early.get(r) ?? []) {
      open.updates.set(sender, v);
      trace?.heard(sender, this.earlyTrace.get(`${sender}/${r}`));
    }
    this.early.delete(r);
    for (const k of [...this.early.keys()]) if (k < r) this.early.delete(k);
    this.earlyTrace.clear();
    this.perPeer.clear();
    const publish = trace?.startPublish();
    try {
      await this.opts.transport.publish(encodeMessage({ type: 'update', round: r, modelVersion: this.modelVersion, sender: this.self, values: update.sent }), publish?.context);
    } catch (e) {
      // not sent: the round still aggregates what the others send
      publish?.setStatus('error', (e as Error).message);
    } finally {
      publish?.end();
    }
    if (this.open === open) {
      if (open.updates.size >= open.quorum) this.close('quorum');
      else open.timer = this.timers.setTimeout(() => this.open === open && this.close('timeout'), this.opts.roundTimeoutMs ?? 10_000);
    }
    return promise;
  }

  /** A round in secure mode: the sum of the survivors' masked updates, then the step bound. */
  private async secureRoundRun(r: number, trace: RoundTrace | null): Promise<RoundOutcome> {
    const update = trace ? trace.phase('learning.train', () => this.localUpdate(), (u) => ({ 'x0tta6bl4.learning.loss': u.loss })) : this.localUpdate();
    const base = this.parameters();
    const clip = this.secureClipNorm!;
    const round = new SecureRound({
      transport: this.opts.transport, round: r, d: this.d, clipNorm: clip,
      phaseTimeoutMs: this.opts.secure?.phaseTimeoutMs ?? this.opts.roundTimeoutMs ?? 10_000,
      ...(this.opts.admitted ? { admitted: this.opts.admitted } : {}), timers: this.timers,
    });
    this.secureRound = round;
    this.perPeer.clear();
    for (const { m, from } of this.earlySecure.get(r)?.values() ?? []) round.handle(m, from);
    for (const k of [...this.earlySecure.keys()]) if (k <= r) this.earlySecure.delete(k);
    // The secure protocol's phases (keys, shares, masked sum, unmask) are one collect span: the sum is
    // formed in them, no single update is ever seen.
    trace?.startCollect(0);
    const out = await round.run(update.sent);
    trace?.endCollect(out.ok ? 'quorum' : 'failed', out.ok ? out.count : 1);
    this.secureRound = null;
    let applied = false;
    let ruleUsed: string | undefined;
    if (out.ok) {
      const mean = Float32Array.from(out.sum, (v) => v / out.count);
      // the sum hides who sent what, so a Byzantine input can only be bounded, not removed:
      // the step is clipped to the senders' clip norm (around the last aggregate for CC)
      const c = this.rule.rule === 'centered-clipping' && this.center ? this.center : new Float32Array(this.d);
      const diff = Float32Array.from(mean, (v, j) => v - c[j]!);
      const n = l2(diff);
      const k = n > clip ? clip / n : 1;
      const step = Float32Array.from(diff, (v, j) => c[j]! + k * v);
      const next = Float32Array.from(base, (v, j) => v + step[j]!);
      if (next.every(Number.isFinite)) {
        this.model.setParams(next);
        this.center = step;
        this.modelVersion++;
        applied = true;
        ruleUsed = `secure-sum+${this.rule.rule}`;
      }
    }
    this.round = r + 1;
    const outcome: RoundOutcome = {
      round: r,
      heard: out.ok ? out.count : 1,
      peersHeard: out.ok ? out.survivors.filter((p) => p !== this.self) : [],
      applied,
      ...(applied ? { ruleUsed } : { skipped: out.ok ? 'non-finite aggregate' : out.reason }),
      closedBy: 'quorum',
      auc: this.shouldEvaluate(r) ? this.evaluate() : this.lastAuc,
      modelVersion: this.modelVersion,
      localLoss: update.loss,
    };
    this.lastOutcome = outcome;
    trace?.finish(outcome);
    return outcome;
  }

  private receiveSecure(m: LearningMessage, from: string): void {
    if (this.secureClipNorm === null) return this.reject(m.round, from, 'wrong-type', `${m.type} messages are for the secure mode, which this node does not run`);
    if (this.secureRound && this.secureRound.round === m.round) return this.secureRound.handle(m, from);
    if (m.round < this.round) return this.reject(m.round, from, 'stale', `round ${m.round} is closed (current ${this.round})`);
    if (m.round > this.round + (this.opts.maxAhead ?? 2)) return this.reject(m.round, from, 'too-far-ahead', `round ${m.round} is more than ${this.opts.maxAhead ?? 2} ahead of ${this.round}`);
    let buf = this.earlySecure.get(m.round);
    if (!buf) this.earlySecure.set(m.round, (buf = new Map()));
    const key = `${from}/${m.type}`;
    if (buf.has(key)) return this.reject(m.round, from, 'duplicate', `second ${m.type} message for round ${m.round}`);
    buf.set(key, { m, from });
  }

  /** Closes the open round now with what has arrived. */
  closeRound(): void {
    if (this.open) this.close('manual');
  }

  /**
   * Asks the peers for their model and adopts the coordinate-wise median of the answers (in the
   * core), when at least 2f+1 peers answered with a newer version: f lying peers cannot move a
   * median of 2f+1 outside the honest answers' range. Resolves whether the model was adopted.
   */
  async requestCatchUp(): Promise<boolean> {
    if (this.catchUp) return this.catchUp.done;
    const answers = new Map<string, { version: number; round: number; params: Float32Array }>();
    const done = (async () => {
      try {
        await this.opts.transport.publish(encodeMessage({ type: 'model-request', round: this.round, modelVersion: this.modelVersion, sender: this.self, values: new Float32Array(0) }));
      } catch {
        return false;
      }
      await new Promise<void>((res) => this.timers.setTimeout(res, this.opts.catchUpWindowMs ?? 2000));
      return this.adopt([...answers.values()]);
    })().finally(() => (this.catchUp = null));
    this.catchUp = { answers, done };
    return done;
  }

  /** Stops listening and releases core memory. */
  dispose(): void {
    this.unsubscribe();
    if (this.open?.timer) this.timers.clearTimeout(this.open.timer);
    this.open = null;
    this.aggregator.dispose();
    this.model.dispose();
  }

  // ---- local update -------------------------------------------------------------------------

  private localUpdate(): { sent: Float32Array; loss: number } {
    const before = this.parameters();
    const loss = trainLocal(this.model, this.opts.data, this.opts.training ?? {}, this.rng);
    const after = this.model.params();
    const delta = new Float32Array(this.d);
    for (let j = 0; j < this.d; j++) delta[j] = after[j]! - before[j]!;
    this.model.setParams(before); // the model only changes by aggregates
    const b = this.workerMomentum;
    for (let j = 0; j < this.d; j++) this.momentum[j] = b * this.momentum[j]! + (1 - b) * delta[j]!;
    const sent = this.dp ? privatize(this.momentum, this.dp, this.rng) : this.momentum.slice();
    return { sent, loss };
  }

  // ---- receiving ----------------------------------------------------------------------------

  private receive(bytes: Uint8Array, from: string, trace?: SpanContext): void {
    const count = (this.perPeer.get(from) ?? 0) + 1;
    this.perPeer.set(from, count);
    const limit = this.opts.maxMessagesPerRound ?? 16;
    if (count > limit) {
      // record only the first overflow per window: the log must not become the flood's target
      if (count === limit + 1) this.reject(this.round, from, 'flooding', `more than ${limit} messages in round ${this.round}`);
      else this.count('flooding');
      return;
    }
    let m: LearningMessage;
    try {
      m = decodeMessage(bytes);
    } catch (e) {
      this.reject(this.round, from, 'malformed', e instanceof LearningWireError ? e.message : String(e));
      return;
    }
    if (m.sender !== from) return this.reject(m.round, from, 'sender-mismatch', `message signed by transport as ${from} claims ${m.sender}`);
    const admitted = this.opts.admitted ? this.opts.admitted(from) : this.opts.transport.peers().includes(from);
    if (!admitted) return this.reject(m.round, from, 'not-admitted', 'peer is not admitted to the federation');
    switch (m.type) {
      case 'update':
        if (this.secureClipNorm !== null) return this.reject(m.round, from, 'wrong-type', 'plain updates are refused in secure mode');
        return this.receiveUpdate(m, from, trace);
      case 'model-request':
        return this.answerModelRequest();
      case 'model':
        return this.receiveModel(m, from);
      default:
        return this.receiveSecure(m, from);
    }
  }

  private receiveUpdate(m: LearningMessage, from: string, trace?: SpanContext): void {
    // The sender's trace gets a span here too (one trace id across the routers); this node's own
    // round links to it from its collect span.
    const span = trace && this.opts.tracer?.enabled
      ? this.opts.tracer.startSpan('learning.update.receive', { parent: trace, kind: 'consumer', attributes: { 'x0tta6bl4.peer': from, 'x0tta6bl4.learning.round': m.round } })
      : null;
    const before = this.rejectedTotal();
    try {
      this.takeUpdate(m, from, trace);
    } finally {
      if (span) {
        const refused = this.rejectedTotal() > before ? this.recentRejections[this.recentRejections.length - 1] : undefined;
        if (refused) span.setStatus('error', `${refused.reason}: ${refused.detail}`);
        span.end();
      }
    }
  }

  private rejectedTotal(): number {
    let n = 0;
    for (const v of this.rejectedByReason.values()) n += v;
    return n;
  }

  private takeUpdate(m: LearningMessage, from: string, trace?: SpanContext): void {
    const key = `${from}/${m.round}`;
    if (m.round < this.round) {
      return this.reject(m.round, from, 'stale', `round ${m.round} is closed (current ${this.round})`);
    }
    if (m.round > this.round + (this.opts.maxAhead ?? 2)) {
      this.reject(m.round, from, 'too-far-ahead', `round ${m.round} is more than ${this.opts.maxAhead ?? 2} ahead of ${this.round}`);
      return;
    }
    if (this.seen.has(key)) return this.reject(m.round, from, 'duplicate', `second update from ${from} for round ${m.round}`);
    this.seen.add(key);
    if (!(m.values instanceof Float32Array)) return this.reject(m.round, from, 'malformed', 'update values must be float32');
    if (m.values.length !== this.d) return this.reject(m.round, from, 'wrong-length', `${m.values.length} values, expected ${this.d}`);
    const bad = m.values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) return this.reject(m.round, from, 'non-finite', `${m.values[bad]} at coordinate ${bad}`);
    const open = this.open;
    if (open && open.round === m.round) {
      open.updates.set(from, m.values);
      open.trace?.heard(from, trace);
      if (open.updates.size >= open.quorum) this.close('quorum');
    } else {
      let buf = this.early.get(m.round);
      if (!buf) this.early.set(m.round, (buf = new Map()));
      buf.set(from, m.values);
      if (trace && this.opts.tracer?.enabled) this.earlyTrace.set(key, trace);
    }
  }

  private answerModelRequest(): void {
    // one answer per round window: requests are broadcast, so answering each would let one peer
    // make every node re-send its whole model as often as it likes
    if (this.answeredRound === this.round) return;
    this.answeredRound = this.round;
    void this.opts.transport
      .publish(encodeMessage({ type: 'model', round: this.round, modelVersion: this.modelVersion, sender: this.self, values: this.parameters() }))
      .catch(() => undefined);
  }

  private receiveModel(m: LearningMessage, from: string): void {
    if (!this.catchUp) return; // unsolicited: ignore silently (answers to another node's request)
    if (!(m.values instanceof Float32Array) || m.values.length !== this.d) return this.reject(m.round, from, 'wrong-length', `model of ${m.values.length} values, expected ${this.d}`);
    if (m.values.some((v) => !Number.isFinite(v))) return this.reject(m.round, from, 'non-finite', 'model has non-finite values');
    if (this.catchUp.answers.has(from)) return this.reject(m.round, from, 'duplicate', 'second model answer');
    this.catchUp.answers.set(from, { version: m.modelVersion, round: m.round, params: m.values });
  }

  private adopt(answers: { version: number; round: number; params: Float32Array }[]): boolean {
    const newer = answers.filter((a) => a.version > this.modelVersion);
    if (newer.length < 2 * this.rule.f + 1) return false;
    const out = this.aggregator.aggregate(newer.map((a) => a.params), { ...this.rule, rule: 'median', bucketing: 1 }, null, 0);
    if (!out.ok) return false;
    this.model.setParams(out.result);
    this.modelVersion = median(newer.map((a) => a.version));
    this.round = Math.max(this.round, median(newer.map((a) => a.round)));
    this.momentum.fill(0);
    this.center = null;
    this.catchUps++;
    return true;
  }

  // ---- closing ------------------------------------------------------------------------------

  private close(closedBy: RoundOutcome['closedBy']): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    if (open.timer) this.timers.clearTimeout(open.timer);
    const senders = [this.self, ...[...open.updates.keys()].filter((s) => s !== this.self).sort()];
    const updates = senders.map((s) => open.updates.get(s)!);
    const trace = open.trace;
    trace?.endCollect(closedBy, updates.length);
    const aggregate = () => this.aggregator.aggregate(updates, this.rule, this.center, hashString(`${this.self}/${open.round}`));
    const out = trace
      ? trace.phase('learning.aggregate', aggregate, (o) => ({ 'x0tta6bl4.learning.rule': this.rule.rule, 'x0tta6bl4.learning.updates': updates.length, 'x0tta6bl4.learning.ok': o.ok, 'x0tta6bl4.core': 'wasm' }))
      : aggregate();
    const apply = (): boolean => {
      if (!out.ok) return false;
      const next = new Float32Array(this.d);
      for (let j = 0; j < this.d; j++) next[j] = open.base[j]! + out.result[j]!;
      if (!next.every(Number.isFinite)) return false;
      this.model.setParams(next);
      this.center = out.result;
      this.modelVersion++;
      return true;
    };
    const applied = trace ? trace.phase('learning.apply', apply, (a) => ({ 'x0tta6bl4.learning.applied': a, 'x0tta6bl4.learning.model_version': this.modelVersion })) : apply();
    this.round = open.round + 1;
    for (const k of [...this.seen]) if (Number(k.slice(k.lastIndexOf('/') + 1)) < open.round) this.seen.delete(k);
    const outcome: RoundOutcome = {
      round: open.round,
      heard: updates.length,
      peersHeard: senders.slice(1),
      applied,
      ...(out.ok ? { ruleUsed: out.ruleUsed } : { skipped: out.reason }),
      closedBy,
      auc: this.shouldEvaluate(open.round) ? this.evaluate() : this.lastAuc,
      modelVersion: this.modelVersion,
      localLoss: open.localLoss,
    };
    this.lastOutcome = outcome;
    trace?.finish(outcome);
    open.resolve(outcome);
  }

  private shouldEvaluate(round: number): boolean {
    const k = this.opts.evaluateEvery ?? 1;
    return k > 0 && (round + 1) % k === 0;
  }

  private reject(round: number, peer: string, reason: RejectReason, detail: string): void {
    this.count(reason);
    this.recentRejections.push({ round, peer, reason, detail });
    if (this.recentRejections.length > RECENT_REJECTIONS) this.recentRejections.shift();
  }

  private count(reason: RejectReason): void {
    this.rejectedByReason.set(reason, (this.rejectedByReason.get(reason) ?? 0) + 1);
  }
}

function checkRule(r: RuleConfig): void {
  if (!Number.isInteger(r.f) || r.f < 0) throw new RangeError(`learner: f must be an integer ≥ 0, got ${r.f}`);
  if (!Number.isInteger(r.bucketing) || r.bucketing < 0) throw new RangeError(`learner: bucketing must be an integer ≥ 0, got ${r.bucketing}`);
  // 'mean' with f > 0 is allowed: it is the baseline the benchmark compares against (f is ignored)
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}

export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}
