import { customPlaceholders, type CommandType } from './cloud-assistant-limits.js';
import { newCommandId } from './ids.js';

/** A registered Cloud Assistant command (CreateCommand, or RunCommand with KeepCommand). */
export interface Command {
  commandId: string;
  name: string;
  description: string;
  /** Only RunShellScript commands can be invoked: the sandbox instances are Linux. */
  type: CommandType;
  /** The script, decoded (plain text). */
  content: string;
  enableParameter: boolean;
  /** Seconds. */
  timeout: number;
  /** '' means the default, /root. */
  workingDir: string;
  creationTime: Date;
  /** Custom `{{name}}` placeholders of the script (empty unless `enableParameter`). */
  parameterNames: string[];
  /** How many invocations ran it. */
  invokeTimes: number;
}

/** What CreateCommand (or RunCommand with KeepCommand) says about a new command. */
export type NewCommand = Omit<Command, 'commandId' | 'creationTime' | 'parameterNames' | 'invokeTimes'>;

/** The commands of the emulated region, in creation order. */
export class CommandStore {
  readonly #commands = new Map<string, Command>();

  add(spec: NewCommand, commandId: string = newCommandId()): Command {
    const command: Command = {
      ...spec,
      commandId,
      creationTime: new Date(),
      parameterNames: spec.enableParameter ? customPlaceholders(spec.content) : [],
      invokeTimes: 0,
    };
    this.#commands.set(command.commandId, command);
    return command;
  }

  get(commandId: string): Command | undefined {
    return this.#commands.get(commandId);
  }

  /** Whether a command was there to delete. */
  delete(commandId: string): boolean {
    return this.#commands.delete(commandId);
  }

  /** Newest first, as DescribeCommands lists them. */
  list(): Command[] {
    return [...this.#commands.values()].reverse();
  }
}
