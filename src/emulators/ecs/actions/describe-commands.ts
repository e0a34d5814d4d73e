import { z } from 'zod';
import { apiTime } from '../api-time.js';
import type { Command } from '../commands.js';
import type { ActionHandler } from '../ecs-context.js';
import { encodeContent } from '../encode-content.js';
import { paginate } from '../paging.js';
import { readParams } from '../request-params.js';

const DescribeCommandsParams = {
  CommandId: z.string().optional(),
  Name: z.string().optional(),
  Type: z.string().optional(),
  Provider: z.string().optional(),
  ContentEncoding: z.string().optional(),
};

/**
 * DescribeCommands: the registered commands, newest first, by `CommandId`, `Name` (exact) or
 * `Type`; `CommandContent` base64 unless `ContentEncoding` is PlainText. Paged (`MaxResults` ≤ 50).
 * Public commands (`Provider`) do not exist here: asking for them lists nothing.
 */
export const describeCommands: ActionHandler = (params, context) => {
  const request = readParams(DescribeCommandsParams, params);
  const commands = context.commands
    .list()
    .filter((command) => request.CommandId === undefined || command.commandId === request.CommandId)
    .filter((command) => request.Name === undefined || command.name === request.Name)
    .filter((command) => request.Type === undefined || command.type === request.Type)
    .filter(() => request.Provider === undefined);
  const page = paginate(commands, params, { defaultSize: 10, maxSize: 50 });
  return { Commands: { Command: page.items.map((command) => commandView(command, request.ContentEncoding)) }, ...page.reply };
};

function commandView(command: Command, contentEncoding: string | undefined): Record<string, unknown> {
  return {
    CommandId: command.commandId,
    Name: command.name,
    Description: command.description,
    Type: command.type,
    CommandContent: encodeContent(command.content, contentEncoding),
    EnableParameter: command.enableParameter,
    ParameterNames: { ParameterName: command.parameterNames },
    Timeout: command.timeout,
    WorkingDir: command.workingDir,
    CreationTime: apiTime(command.creationTime),
    InvokeTimes: command.invokeTimes,
    Latest: true,
    Version: 1,
    Provider: '',
    Category: '',
  };
}
