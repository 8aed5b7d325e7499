// Every command the CLI knows, in the order `--help` lists them.
import type { CliCommand } from '../command.ts';
import { agentCommand } from './agent.ts';
import { demoCommand } from './demo.ts';
import { meshCommand } from './mesh.ts';
import { statusCommand } from './status.ts';

export const commands: CliCommand[] = [agentCommand, statusCommand, meshCommand, demoCommand];
