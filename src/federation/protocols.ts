// The federation's own libp2p stream protocols (gossipsub topics are named per fleet, in the
// modules that use them).
export const ADMISSION_PROTOCOL = '/x0tta6bl4/admission/1.0.0';
export const STATE_PROTOCOL = '/x0tta6bl4/state/1.0.0';
export const DIGEST_PROTOCOL = '/x0tta6bl4/state-digest/1.0.0';
