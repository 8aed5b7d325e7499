// Every command the CLI knows, in the order `--help` lists them.
import type { CliCommand } from '../command.ts';
import { actionsCommand } from './actions.ts';
import { agentCommand } from './agent.ts';
import { demoCommand } from './demo.ts';
import { fleetCommand } from './fleet.ts';
import { learningCommand } from './learning.ts';
import { peersCommand } from './peers.ts';
import { pkiCommand } from './pki.ts';
import { meshCommand } from './mesh.ts';
import { statusCommand } from './status.ts';

export const commands: CliCommand[] = [agentCommand, statusCommand, meshCommand, actionsCommand, learningCommand, peersCommand, fleetCommand, pkiCommand, demoCommand];
