import { z } from 'zod';
import { checkPlaceholders, checkRunsOnLinux, commandType, decodeCommandContent, timeoutSeconds } from '../cloud-assistant-limits.js';
import type { ActionHandler } from '../ecs-context.js';
import { newCommandId } from '../ids.js';
import { BooleanParam, IntegerParam, readParams } from '../request-params.js';
import { checkCommandDescription, checkCommandName, checkRepeatMode, checkUsername, checkWorkingDir } from './command-fields.js';
import { invocationParameters } from './invocation-parameters.js';
import { targetInstances } from './target-instances.js';

const RunCommandParams = {
  Type: z.string(),
  CommandContent: z.string(),
  ContentEncoding: z.string().optional(),
  Name: z.string().optional(),
  Description: z.string().optional(),
  EnableParameter: BooleanParam.optional(),
  Parameters: z.string().optional(),
  Timeout: IntegerParam.optional(),
  WorkingDir: z.string().optional(),
  Username: z.string().optional(),
  RepeatMode: z.string().optional(),
  KeepCommand: BooleanParam.optional(),
};

/**
 * RunCommand: creates a command and runs it in one call. `CommandContent` is plain text unless
 * `ContentEncoding` is Base64 (case-insensitive). The command is kept (listed by DescribeCommands,
 * invocable again) only with `KeepCommand=true`. Replies `{CommandId, InvokeId}` at once.
 */
export const runCommand: ActionHandler = (params, context) => {
  const request = readParams(RunCommandParams, params);
  const earlier = context.clientTokens.recall('RunCommand', params);
  if (earlier !== undefined) return earlier;
  checkRepeatMode(request.RepeatMode);
  checkUsername(request.Username);
  const type = commandType(request.Type);
  const instanceIds = targetInstances(params, context);
  checkRunsOnLinux(type);
  const content = decodeCommandContent(request.CommandContent, request.ContentEncoding?.toLowerCase() === 'base64');
  const enableParameter = request.EnableParameter ?? false;
  if (enableParameter) checkPlaceholders(content);
  const parameters = invocationParameters(request.Parameters, content, enableParameter);
  const name = checkCommandName(request.Name ?? '');
  const description = checkCommandDescription(request.Description ?? '');
  const timeout = timeoutSeconds(request.Timeout);
  const workingDir = checkWorkingDir(request.WorkingDir ?? '');
  const commandId = newCommandId();
  if (request.KeepCommand === true) context.commands.add({ name, description, type, content, enableParameter, timeout, workingDir }, commandId).invokeTimes = 1;
  const invocation = context.invocations.startCommand(
    { commandId, commandName: name, commandDescription: description, content, enableParameter, parameters, timeoutSeconds: timeout, workingDir },
    instanceIds,
  );
  const reply = { CommandId: commandId, InvokeId: invocation.invokeId };
  context.clientTokens.remember('RunCommand', params, reply);
  return reply;
};
