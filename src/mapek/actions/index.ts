// Every repair action, by kind.
import type { ActionKind, HealAction } from './action.ts';
import { bonding } from './bonding.ts';
import { gatewayReselect } from './gateway-reselect.ts';
import { origInterval } from './orig-interval.ts';
import { purgeNeighbours } from './purge-neighbours.ts';
import { quarantine } from './quarantine.ts';
import { reboot } from './reboot.ts';
import { restartInterface } from './restart-interface.ts';
import { restartService } from './restart-service.ts';
import { steerInterface } from './steer-interface.ts';
import { steerNeighbour } from './steer-neighbour.ts';

export const ACTIONS: Readonly<Record<ActionKind, HealAction>> = Object.freeze({
  'orig-interval': origInterval,
  bonding,
  'gateway-reselect': gatewayReselect,
  'steer-interface': steerInterface,
  'steer-neighbour': steerNeighbour,
  quarantine,
  'purge-neighbours': purgeNeighbours,
  'restart-interface': restartInterface,
  'restart-service': restartService,
  reboot,
});

export type { ActionKind, ActionTarget, HealAction, ActionContext, RevertState } from './action.ts';
