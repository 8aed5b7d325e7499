// Stands in for `worker-timers` in the bundle (scripts/build-bundle.mjs aliases it here): mqtt
// only uses it in browsers, where timers in background tabs are throttled; Node's are not.
export const setInterval = globalThis.setInterval;
export const clearInterval = globalThis.clearInterval;
export const setTimeout = globalThis.setTimeout;
export const clearTimeout = globalThis.clearTimeout;
