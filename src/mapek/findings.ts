// What analysis concludes: one finding per problem and subject, with the evidence that made it,
// so that the plan, the journal and the status page can all say why.
export type FindingKind =
  | 'link-degrading'
  /** Predicted dead within the horizon (TQ trend and failure model): predict-link-death.ts. */
  | 'link-dying'
  | 'link-dead'
  | 'link-late'
  | 'neighbour-flapping'
  | 'gateway-lost'
  | 'route-churn'
  | 'interface-stuck'
  | 'partition';

export interface FindingSubject {
  ifname?: string;
  neighbour?: string;
  originator?: string;
}

export type Evidence = Record<string, number | string | boolean | null>;

export interface Finding {
  kind: FindingKind;
  /** kind plus subject: the same problem keeps its key from poll to poll. */
  key: string;
  subject: FindingSubject;
  /** When this finding was first made without a break (ms, the loop's clock). */
  sinceMs: number;
  message: string;
  evidence: Evidence;
}

export const findingKey = (kind: FindingKind, s: FindingSubject) =>
  [kind, s.ifname ?? '', s.neighbour ?? '', s.originator ?? ''].join('|');

/** How the mesh looks from this node, one number per concern: what verify compares before and after. */
export interface Connectivity {
  /** Originators whose best route is fresh and goes through a live next hop. */
  reachable: number;
  /** The most reachable within the last 30 s: what an intermittent link gave when it was up. */
  recentReachable: number;
  liveNeighbours: number;
  /** 'n/a' unless this node is a gateway client. */
  gateway: 'ok' | 'lost' | 'n/a';
  /** Mean route score (0..1) of the best route to each reachable originator. */
  quality: number;
}
