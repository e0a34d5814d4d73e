import { z } from 'zod';
import { EcsApiError } from '../api-error.js';
import { checkRunsOnLinux, timeoutSeconds } from '../cloud-assistant-limits.js';
import type { ActionHandler } from '../ecs-context.js';
import { IntegerParam, readParams } from '../request-params.js';
import { checkRepeatMode, checkUsername, checkWorkingDir } from './command-fields.js';
import { invocationParameters } from './invocation-parameters.js';
import { targetInstances } from './target-instances.js';

const InvokeCommandParams = {
  CommandId: z.string(),
  Parameters: z.string().optional(),
  Timeout: IntegerParam.optional(),
  WorkingDir: z.string().optional(),
  Username: z.string().optional(),
  RepeatMode: z.string().optional(),
};

/**
 * InvokeCommand: runs a registered command on `InstanceId.N` (≤ 100) or `ResourceTag.N`, with
 * `Parameters` (a JSON object, ≤ 10 keys, exactly the script's placeholders). `Timeout` and
 * `WorkingDir` override the command's for this run. A repeated `ClientToken` returns the first
 * InvokeId and runs nothing. Replies `{InvokeId}` at once; the runs go on in the background.
 */
export const invokeCommand: ActionHandler = (params, context) => {
  const request = readParams(InvokeCommandParams, params);
  const earlier = context.clientTokens.recall('InvokeCommand', params);
  if (earlier !== undefined) return earlier;
  const command = context.commands.get(request.CommandId);
  if (command === undefined) throw new EcsApiError(404, 'InvalidCmdId.NotFound', `The specified command ID does not exist: ${request.CommandId}.`);
  checkRepeatMode(request.RepeatMode);
  checkUsername(request.Username);
  const instanceIds = targetInstances(params, context);
  checkRunsOnLinux(command.type);
  const parameters = invocationParameters(request.Parameters, command.content, command.enableParameter);
  const invocation = context.invocations.startCommand(
    {
      commandId: command.commandId,
      commandName: command.name,
      commandDescription: command.description,
      content: command.content,
      enableParameter: command.enableParameter,
      parameters,
      timeoutSeconds: timeoutSeconds(request.Timeout, command.timeout),
      workingDir: checkWorkingDir(request.WorkingDir ?? command.workingDir),
    },
    instanceIds,
  );
  command.invokeTimes++;
  const reply = { InvokeId: invocation.invokeId };
  context.clientTokens.remember('InvokeCommand', params, reply);
  return reply;
};
