import type { CliCommand } from '../cliCommand';
import { historyCommand } from './historyCommand';
import { rebuildReadModelsCommand, verifyReadModelsCommand } from './readModelCommands';
import { stateCommand } from './stateCommand';
import { verifyCommand } from './verifyCommand';

/** Every CLI command, in the order `shopstream help` lists them. */
export const COMMANDS: readonly CliCommand[] = [historyCommand, stateCommand, verifyCommand, rebuildReadModelsCommand, verifyReadModelsCommand];
