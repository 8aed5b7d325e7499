// The healing action an `action` or `rollback` event is about, read from its message, so that the
// fleet can count actions and rollbacks per action kind. The set is closed (the actions under
// src/mapek/actions/), which bounds the label's cardinality; anything else is 'other'.
// The messages come from src/mapek/execute.ts: either "<kind> #<id> …" or the action's own
// describe() text ("restart interface mesh0 (#3, rung 2): …").
export const ACTION_KINDS = [
  'orig-interval',
  'restart-interface',
  'steer-interface',
  'steer-neighbour',
  'purge-neighbours',
  'gateway-reselect',
  'quarantine',
  'bonding',
  'restart-service',
  'reboot',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number] | 'other';

// steer-neighbour's text names a MAC where steer-interface's names an interface.
const BY_DESCRIPTION: [RegExp, ActionKind][] = [
  [/^lower orig_interval/, 'orig-interval'],
  [/^restart interface /, 'restart-interface'],
  [/^steer traffic off ([0-9a-f]{2}:){5}[0-9a-f]{2} on /, 'steer-neighbour'],
  [/^steer traffic off /, 'steer-interface'],
  [/^purge the neighbours on /, 'purge-neighbours'],
  [/^re-elect the gateway/, 'gateway-reselect'],
  [/^quarantine /, 'quarantine'],
  [/^enable bonding/, 'bonding'],
  [/^restart the wireless service/, 'restart-service'],
  [/^reboot the router/, 'reboot'],
];

const KNOWN = new Set<string>(ACTION_KINDS);

export function actionKind(message: string): ActionKind {
  const first = /^([a-z][a-z-]{1,31}) #\d/.exec(message)?.[1];
  if (first !== undefined && KNOWN.has(first)) return first as ActionKind;
  for (const [start, kind] of BY_DESCRIPTION) if (start.test(message)) return kind;
  return 'other';
}
