// The anchor table (shared/reference/federated-learning.md): final MNIST test accuracy (%), mean
// of 3 seeds, from the bucketing paper's own logs. n = 25, f = 5, sorted-label non-IID,
// 600 iterations, lr 0.01. Keys: configuration → rule → attack.
import type { MNIST_ATTACKS, MnistRule } from './experiment.ts';

export type AnchorConfig = 'none' | 'bucketing' | 'bucketing+momentum';

export const CONFIGS: { name: AnchorConfig; bucketing: number; momentum: number; label: string }[] = [
  { name: 'none', bucketing: 0, momentum: 0, label: 'momentum 0 / no bucketing' },
  { name: 'bucketing', bucketing: 2, momentum: 0, label: 'momentum 0 / bucket s = 2' },
  { name: 'bucketing+momentum', bucketing: 2, momentum: 0.9, label: 'momentum 0.9 / bucket s = 2' },
];

export type AnchorAttack = (typeof MNIST_ATTACKS)[number];
type AnchorRow = Record<AnchorAttack, number>;

export const ANCHOR: Record<AnchorConfig, Partial<Record<MnistRule, AnchorRow>>> = {
  none: {
    krum: { 'bit-flip': 27.5, 'label-flip': 1.0, mimic: 38.1, ipm: 36.6, alie: 77.3 },
    median: { 'bit-flip': 37.6, 'label-flip': 33.5, mimic: 68.7, ipm: 49.8, alie: 75.3 },
    rfa: { 'bit-flip': 69.7, 'label-flip': 91.1, mimic: 79.5, ipm: 16.3, alie: 63.1 },
    cclip: { 'bit-flip': 75.5, 'label-flip': 91.8, mimic: 92.1, ipm: 92.3, alie: 91.5 },
  },
  bucketing: {
    krum: { 'bit-flip': 29.9, 'label-flip': 23.1, mimic: 54.6, ipm: 55.6, alie: 62.7 },
    median: { 'bit-flip': 51.1, 'label-flip': 52.4, mimic: 79.3, ipm: 65.4, alie: 89.0 },
    rfa: { 'bit-flip': 88.3, 'label-flip': 92.2, mimic: 91.6, ipm: 90.9, alie: 91.7 },
    cclip: { 'bit-flip': 92.0, 'label-flip': 92.5, mimic: 93.0, ipm: 93.0, alie: 91.9 },
  },
  'bucketing+momentum': {
    krum: { 'bit-flip': 27.0, 'label-flip': 43.8, mimic: 64.6, ipm: 41.6, alie: 10.2 },
    median: { 'bit-flip': 60.3, 'label-flip': 71.5, mimic: 82.7, ipm: 59.9, alie: 39.2 },
    rfa: { 'bit-flip': 97.0, 'label-flip': 97.6, mimic: 97.3, ipm: 96.2, alie: 68.8 },
    cclip: { 'bit-flip': 97.9, 'label-flip': 97.9, mimic: 97.9, ipm: 97.9, alie: 98.1 },
  },
};

/** The variant name used in the bench JSON: rule, rule+bucketing, rule+bucketing+momentum. */
export function variantName(rule: MnistRule, config: AnchorConfig): string {
  return config === 'none' ? rule : `${rule}+${config}`;
}
