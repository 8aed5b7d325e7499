// The MQTT topic contract (README, "Fleet telemetry over MQTT"): every topic the agent and the fleet tool use is built
// or parsed here and nowhere else, so the contract has one definition.

export const TOPIC_ROOT = 'x0tta6bl4';
/** Schema version carried as `v` in every payload; bump it on any incompatible change. */
export const PAYLOAD_VERSION = 1;

// Fleet and node names become topic levels: no wildcards, separators or control characters.
const LEVEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export class TopicError extends Error {
  override readonly name = 'TopicError';
}

export function checkLevel(kind: 'fleet' | 'node' | 'command', value: string): string {
  if (!LEVEL.test(value)) throw new TopicError(`${kind} name '${value}' cannot be an MQTT topic level (letters, digits, '_', '.', '-'; at most 64)`);
  return value;
}

export interface NodeTopics {
  base: string;
  state: string;
  telemetry: string;
  events: string;
  /** What the agent subscribes to: one level per command name, so replies do not match. */
  commands: string;
  command(name: string): string;
  reply(name: string): string;
}

export function nodeTopics(fleet: string, node: string): NodeTopics {
  const base = `${TOPIC_ROOT}/${checkLevel('fleet', fleet)}/${checkLevel('node', node)}`;
  return {
    base,
    state: `${base}/state`,
    telemetry: `${base}/telemetry`,
    events: `${base}/events`,
    commands: `${base}/cmd/+`,
    command: (name) => `${base}/cmd/${checkLevel('command', name)}`,
    reply: (name) => `${base}/cmd/${checkLevel('command', name)}/reply`,
  };
}

/** Subscriptions of the fleet view: one fleet, or every fleet on the broker. */
export function fleetSubscriptions(fleet: string | null): string[] {
  const f = fleet === null ? '+' : checkLevel('fleet', fleet);
  return [`${TOPIC_ROOT}/${f}/+/state`, `${TOPIC_ROOT}/${f}/+/telemetry`];
}

export type NodeTopicKind = 'state' | 'telemetry' | 'events' | 'command' | 'reply';

export interface ParsedTopic {
  fleet: string;
  node: string;
  kind: NodeTopicKind;
  command?: string;
}

/** The inverse of nodeTopics(); null for anything outside the contract. */
export function parseTopic(topic: string): ParsedTopic | null {
  const p = topic.split('/');
  if (p[0] !== TOPIC_ROOT || p.length < 4 || !LEVEL.test(p[1]!) || !LEVEL.test(p[2]!)) return null;
  const [, fleet, node, kind, name, reply] = p as [string, string, string, string, string?, string?];
  if (p.length === 4 && (kind === 'state' || kind === 'telemetry' || kind === 'events')) return { fleet, node, kind };
  if (kind === 'cmd' && name !== undefined && LEVEL.test(name)) {
    if (p.length === 5) return { fleet, node, kind: 'command', command: name };
    if (p.length === 6 && reply === 'reply') return { fleet, node, kind: 'reply', command: name };
  }
  return null;
}
