// The findings about neighbour links: flapping, and dead, late or degrading (at most one of
// these per link). Flapping is found first: a flapping link's down phases are not separate
// "dead" findings.
import type { Neighbour } from '../mesh/driver.ts';
import { linkKey, type Knowledge, type LinkStatus } from './knowledge.ts';
import { round3, type NewFinding, type Scene } from './analysis-scene.ts';
import {
  DEGRADED_DROP, DEGRADING_SAMPLES, ECHO_LOST_VALID_MS, FROZEN_SUSPECT_MS, RX_EXPECTED, RX_SILENT_MIN_MS, SUSPECT_INTERVALS, chanceMisses, deadAfterMs, linkLoss, neighbourOgmMs, OUTAGE_MEMORY_MS,
} from './detection-timing.ts';

/** Links with flapOutages outages or more within flapWindowMs. */
export function flappingFindings(scene: Scene): NewFinding[] {
  const { knowledge, settings, nowMs, name } = scene;
  const found: NewFinding[] = [];
  for (const n of scene.mesh.neighbours) {
    const key = linkKey(n.hardIfname, n.neighbour);
    const outages = knowledge.outagesSince(key, nowMs - settings.flapWindowMs);
    if (outages.length < settings.flapOutages) continue;
    // On a lossy link two OGMs missed in a row (an "outage") come by chance now and then.
    const needed = Math.max(settings.flapOutages, chanceOutages(scene, key));
    if (outages.length < needed) continue;
    found.push({
      kind: 'neighbour-flapping', subject: { ifname: n.hardIfname, neighbour: n.neighbour },
      message: `neighbour ${name(n.neighbour)} on ${n.hardIfname} flapping: ${outages.length} outages in ${settings.flapWindowMs / 1000} s`,
      evidence: { outages: outages.length, needed, windowS: settings.flapWindowMs / 1000, heardNow: n.lastSeenMs < settings.silentAfterMs, lastSeenMs: n.lastSeenMs },
    });
  }
  return found;
}

/** Dead, else late, else degrading, for every link on an active interface that is not flapping. */
export function linkFindings(scene: Scene, flapping: ReadonlySet<string>): NewFinding[] {
  const status = new Map(scene.knowledge.linkStatus().map((l) => [linkKey(l.hardIfname, l.neighbour), l]));
  const found: NewFinding[] = [];
  for (const n of scene.mesh.neighbours) {
    const key = linkKey(n.hardIfname, n.neighbour);
    if (!scene.activeIfnames.has(n.hardIfname) || flapping.has(key)) continue;
    const link = readLink(scene, n, key, status.get(key));
    // A silent link that is not found dead is not found late or degrading either.
    const finding = link.silent ? deadLink(scene, n, link) : lateLink(scene, n, link) ?? degradingLink(scene, n, link);
    if (finding) found.push(finding);
  }
  return found;
}

interface TrafficStop {
  silentMs: number;
  ratePerS: number;
}

/** What the knowledge says of one link, read once for the three findings. */
interface LinkReading {
  key: string;
  status: LinkStatus | undefined;
  /** Its metric samples in the window, gaps left out. */
  samples: number[];
  late: ReturnType<Knowledge['latenessOf']>;
  /** No OGM missed for lateMemoryMs (at most the one now), known for lateKnownMs at least. */
  clean: boolean;
  /** Other neighbours heard on the same interface. */
  othersLive: number;
  stopped: TrafficStop | null;
  /** Asked over the link echo after its traffic stopped, it did not answer, and no OGM came since (rx-watch.ts). */
  echoLostAt: number | null;
  /** Asked after the neighbour said it hears nothing from us, it did not answer: dead from us to it, its OGMs still arriving. */
  oneWayAt: number | null;
  /** Its estimated OGM loss, and the silence that makes it dead given that loss. */
  loss: number;
  deadAfterMs: number;
  /** Silent past its dead-after time, or its traffic stopped with its OGMs. */
  silent: boolean;
}

function readLink(scene: Scene, n: Neighbour, key: string, status: LinkStatus | undefined): LinkReading {
  const { knowledge, settings, nowMs } = scene;
  const samples = (status?.history ?? []).filter((v): v is number => v !== null);
  // A lossy link misses OGMs in a row by chance: the worse its TQ, the longer the silence it takes.
  const lastTq = status?.metricKind === 'tq' ? samples.at(-1) : undefined;
  // A clean link (no OGM missed in lateMemoryMs) missing two in a row is no chance: it is
  // given up half an interval sooner.
  const late = knowledge.latenessOf(key, nowMs - settings.lateMemoryMs);
  const clean = late !== null && late.lates.length <= 1 && nowMs - late.knownSinceMs >= settings.lateKnownMs;
  const loss = lossOf(scene, key, lastTq, nowMs);
  const deadAfter = deadAfterMs(settings.silentAfterMs, settings.cleanSilentAfterMs, clean, lastTq, neighbourOgmMs(knowledge.ogmIntervalMs), loss);
  const othersLive = scene.live.filter((x) => x.hardIfname === n.hardIfname && x.neighbour !== n.neighbour).length;
  const stopped = othersLive === 0 ? trafficStopped(knowledge, n.hardIfname, n.lastSeenMs, nowMs, rxExpected(loss)) : null;
  const echo = knowledge.echoOf(key);
  const lost = echo && !echo.answered && echo.answeredAt !== null && nowMs - echo.askedAt < ECHO_LOST_VALID_MS ? echo : null;
  const echoLostAt = lost && !lost.oneWay && nowMs - n.lastSeenMs < lost.askedAt ? lost.askedAt : null;
  const oneWayAt = lost?.oneWay ? lost.askedAt : null;
  return { key, status, samples, late, clean, othersLive, stopped, echoLostAt, oneWayAt, loss, deadAfterMs: deadAfter,
    silent: n.lastSeenMs >= deadAfter || stopped !== null || echoLostAt !== null || oneWayAt !== null };
}

/**
 * A link's OGM loss, from its TQ and the late events it had before `untilMs` (over the memory,
 * or since the oldest one kept when the record is full). The silence going on now is left out:
 * it is what is being judged, not the link's history.
 */
function lossOf(scene: Scene, key: string, lastTq: number | undefined, untilMs: number): number {
  const { knowledge, settings, nowMs } = scene;
  const late = knowledge.latenessOf(key, nowMs - settings.lateMemoryMs);
  if (!late) return linkLoss(lastTq, [], nowMs, nowMs, neighbourOgmMs(knowledge.ogmIntervalMs));
  const lates = late.lates.filter((t) => t < untilMs).slice(0, late.late && untilMs >= nowMs ? -1 : undefined);
  const full = late.lates.length >= LATE_RECORD;
  const from = Math.max(nowMs - settings.lateMemoryMs, late.knownSinceMs, full ? late.lates[0]! : -Infinity);
  return linkLoss(lastTq, lates, from, Math.min(untilMs, nowMs), neighbourOgmMs(knowledge.ogmIntervalMs));
}
/** Late events the knowledge keeps per link (its TRANSITION_LIMIT). */
const LATE_RECORD = 32;

/**
 * Outages a lossy link has by chance within the flap window: each is a silence of two OGMs or
 * more (loss², per interval), or as many as it had per window before this one (a healthy link
 * at 10 % loss has one every minute or two). Flapping needs more than the count that reaches 1
 * in 10⁴ windows. Both are read from before the window: a flapping link's own outages and lates
 * would raise the bar against it.
 */
function chanceOutages(scene: Scene, key: string): number {
  const { knowledge, settings, nowMs } = scene;
  const ogm = neighbourOgmMs(knowledge.ogmIntervalMs);
  if (ogm <= 0) return 0;
  const before = nowMs - settings.flapWindowMs;
  // Not the TQ: it is now's, and sinks while the link flaps. Nor, on a link known only briefly,
  // its best TQ so far: on a mesh formed a minute ago batman-adv's 64-OGM windows are still
  // filling (TQ 183 on a lossless veth link), which hid a real flap on the kernel
  // (heal-quarantine.guest.ts).
  const p = lossOf(scene, key, undefined, before);
  const known = knowledge.latenessOf(key, 0)?.knownSinceMs ?? nowMs;
  const spanMs = before - Math.max(known, nowMs - OUTAGE_MEMORY_MS);
  const older = knowledge.outagesSince(key, nowMs - OUTAGE_MEMORY_MS).filter((t) => t < before).length;
  const lambda = Math.max((settings.flapWindowMs / ogm) * p * p, spanMs >= settings.flapWindowMs ? (older * settings.flapWindowMs) / spanMs : 0);
  // The smallest n with P(Poisson(λ) ≥ n) < 10⁻⁴.
  let n = 0;
  let term = Math.exp(-lambda);
  let below = term;
  while (1 - below >= 1e-4 && n < 100) {
    n++;
    term *= lambda / n;
    below += term;
  }
  return n + 1;
}

/**
 * The packets that must have gone missing to call traffic stopped: RX_EXPECTED on a link that
 * loses next to nothing; on a lossy one twice the misses in a row it has by chance less than
 * once in 10⁴, as its loss comes in bursts (fades), not a frame at a time.
 */
function rxExpected(loss: number): number {
  const misses = chanceMisses(loss);
  return misses <= 2 ? RX_EXPECTED : Math.max(RX_EXPECTED, 2 * misses);
}

/**
 * A neighbour alone on its interface, overdue with its OGM, whose traffic stopped with it: the
 * interface received nothing for as long as RX_EXPECTED packets would have taken at the rate
 * before. Either sign alone is common (a late OGM now and then; traffic that simply ends);
 * both at once are a dead link, seconds before OGM silence alone could tell.
 */
function trafficStopped(knowledge: Knowledge, ifname: string, lastSeenMs: number, nowMs: number, expected: number): TrafficStop | null {
  const ogm = knowledge.ogmIntervalMs;
  if (ogm <= 0 || lastSeenMs < SUSPECT_INTERVALS * ogm) return null;
  const rx = knowledge.rxSilence(ifname, nowMs);
  if (!rx || rx.silentMs < RX_SILENT_MIN_MS || (rx.ratePerS * rx.silentMs) / 1000 < expected) return null;
  return rx;
}

/** A silent link is dead, unless it never lived or its interface is what went quiet; so is a link dead one way (still heard). */
function deadLink(scene: Scene, n: Neighbour, link: LinkReading): NewFinding | null {
  const { knowledge, nowMs, name } = scene;
  // Only a link that was once heard can die; a neighbour batman-adv merely remembers is not news.
  if (link.samples.length === 0 && knowledge.outagesSince(link.key, 0).length === 0) return null;
  const oneWay = link.oneWayAt !== null && !link.stopped;
  // On a hung radio every neighbour goes silent: that is the interface's finding, not theirs.
  if (!oneWay && (knowledge.countersFrozenMs(n.hardIfname, nowMs)?.frozenMs ?? 0) >= FROZEN_SUSPECT_MS) return null;
  // Nor is a neighbour dead while its interface has passed nothing since it went silent
  // (not even our own OGMs): that is the interface again, until its counters say otherwise.
  if (!oneWay && knowledge.countersMovedSince(n.hardIfname, nowMs - n.lastSeenMs) === false) return null;
  const stopped = link.stopped;
  return {
    kind: 'link-dead', subject: { ifname: n.hardIfname, neighbour: n.neighbour },
    message: oneWay ? `link to ${name(n.neighbour)} on ${n.hardIfname} dead one way: it hears nothing from us and did not answer the link echo`
      : `link to ${name(n.neighbour)} on ${n.hardIfname} dead: silent for ${(n.lastSeenMs / 1000).toFixed(1)} s` +
      (stopped ? `, and the ${stopped.ratePerS.toFixed(0)} packets/s it received stopped ${(stopped.silentMs / 1000).toFixed(1)} s ago` : '') +
      (link.echoLostAt !== null ? `; its traffic stopped and it did not answer the link echo` : ''),
    evidence: { lastSeenMs: n.lastSeenMs, lastMetric: link.samples.at(-1) ?? null, liveOnInterface: link.othersLive, deadAfterMs: Math.round(link.deadAfterMs), loss: round3(link.loss),
      ...(stopped ? { rxSilentMs: stopped.silentMs, rxRateBefore: round3(stopped.ratePerS) } : {}),
      ...(link.echoLostAt !== null ? { echoLostMsAgo: nowMs - link.echoLostAt } : {}),
      ...(oneWay ? { oneWayMsAgo: nowMs - link.oneWayAt! } : {}) },
  };
}

/**
 * A clean link that misses an OGM for the first time in a while, while routes go over it:
 * the earliest sign of a link dying. Its answer is cheap and reversible (faster OGMs, so
 * that batman-adv itself reroutes sooner if the link is really gone).
 */
function lateLink(scene: Scene, n: Neighbour, link: LinkReading): NewFinding | null {
  const { settings, nowMs, name } = scene;
  const late = link.late;
  if (!late?.late || !link.clean) return null;
  const via = scene.mesh.originators.filter((x) => x.best && x.nextHop === n.neighbour && x.hardIfname === n.hardIfname).length;
  if (via === 0) return null;
  return {
    kind: 'link-late', subject: { ifname: n.hardIfname, neighbour: n.neighbour },
    message: `link to ${name(n.neighbour)} on ${n.hardIfname} late: no OGM for ${(n.lastSeenMs / 1000).toFixed(1)} s, its first miss in ${Math.round(Math.min(settings.lateMemoryMs, nowMs - late.knownSinceMs) / 1000)} s`,
    evidence: { lastSeenMs: n.lastSeenMs, routesVia: via, latesInWindow: late.lates.length },
  };
}

/** A TQ link whose last samples average below degradedTq, having been DEGRADED_DROP above it. */
function degradingLink(scene: Scene, n: Neighbour, link: LinkReading): NewFinding | null {
  const { degradedTq } = scene.settings;
  const recent = (link.status?.history ?? []).slice(-DEGRADING_SAMPLES).filter((v): v is number => v !== null);
  if (link.status?.metricKind !== 'tq' || recent.length < DEGRADING_SAMPLES) return null;
  const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
  const max = Math.max(...link.samples);
  if (!(mean < degradedTq && max >= degradedTq + DEGRADED_DROP)) return null;
  const via = [...scene.routes.values()].filter((r) => r.used?.nextHop === n.neighbour && r.used.ifname === n.hardIfname);
  return {
    kind: 'link-degrading', subject: { ifname: n.hardIfname, neighbour: n.neighbour },
    message: `link to ${scene.name(n.neighbour)} on ${n.hardIfname} degrading: TQ ${max} → ${Math.round(mean)}`,
    evidence: { tqNow: Math.round(mean), tqMax: max, routesVia: via.length,
      worstRouteScore: via.length ? round3(Math.min(...via.map((r) => r.used!.score))) : null },
  };
}
