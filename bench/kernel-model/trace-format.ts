// What the kernel recorder (guest.ts) writes per router and what record.ts reads: one poll per
// second, each with every direct link's feature vector and whether it had a current sample.

export interface PollRecord {
  /** Wall clock of the poll, ms. */
  t: number;
  /** key: "hard interface/neighbour MAC"; alive: 1 when the link had a current sample this poll. */
  links: { key: string; alive: 0 | 1; x: number[] }[];
}

export interface NodeTrace {
  name: string;
  polls: PollRecord[];
}

export interface FaultRecord {
  kind: 'die' | 'fade' | 'flap' | 'lossy';
  link: [string, string];
  startMs: number;
  /** When the link was fully cut (100 % loss); absent for lossy-but-alive faults. */
  deadFromMs?: number;
  endMs: number;
}

/** One recorded VM step (a mesh with its faults). */
export interface KernelTrace {
  kernel: string;
  topology: { name: string; nodes: number; links: [number, number][] };
  pollMs: number;
  faults: FaultRecord[];
  nodes: NodeTrace[];
}
