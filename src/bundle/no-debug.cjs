// Stands in for the `debug` package in the router bundle only (scripts/build-bundle.mjs aliases
// it here). mqtt and mqtt-packet log through it only when DEBUG=mqttjs* is set, which nobody does
// on a router, and the package cost ≈ 2.5 KB of the compressed ipk (within the 400 KB goal).
// They only ever call debug(namespace)(...args), so every logger is a no-op.
'use strict';
const noop = () => {};
module.exports = () => noop;
