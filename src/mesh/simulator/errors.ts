// Misuse of the world API (a node that does not exist, a link that is not there) is a typed
// error, not a crash deep inside the engine. Driver calls use MeshError instead, as the
// real batman-adv driver does.

export type SimulatorErrorCode = 'NO_NODE' | 'NO_LINK' | 'NO_INTERFACE' | 'INVALID';

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
  constructor(
    readonly code: SimulatorErrorCode,
    message: string,
  ) {
    super(message);
  }
}
