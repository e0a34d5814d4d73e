import { z } from 'zod';
import { checkInvocationSize, checkPlaceholders, commandType, decodeCommandContent, timeoutSeconds } from '../cloud-assistant-limits.js';
import type { ActionHandler } from '../ecs-context.js';
import { BooleanParam, IntegerParam, readParams } from '../request-params.js';
import { checkCommandDescription, checkCommandName, checkWorkingDir } from './command-fields.js';

const CreateCommandParams = {
  Name: z.string(),
  Type: z.string(),
  CommandContent: z.string(),
  ContentEncoding: z.string().optional(),
  Description: z.string().optional(),
  EnableParameter: BooleanParam.optional(),
  Timeout: IntegerParam.optional(),
  WorkingDir: z.string().optional(),
};

/**
 * CreateCommand: registers a script. `CommandContent` is base64 unless `ContentEncoding` is
 * PlainText (any other value means Base64, as documented). With `EnableParameter`, its `{{name}}`
 * placeholders are checked (≤ 20, names ≤ 64 bytes). Replies `{CommandId}`.
 */
export const createCommand: ActionHandler = (params, context) => {
  const request = readParams(CreateCommandParams, params);
  const earlier = context.clientTokens.recall('CreateCommand', params);
  if (earlier !== undefined) return earlier;
  const name = checkCommandName(request.Name);
  const description = checkCommandDescription(request.Description ?? '');
  const type = commandType(request.Type);
  const content = decodeCommandContent(request.CommandContent, request.ContentEncoding?.toLowerCase() !== 'plaintext');
  const enableParameter = request.EnableParameter ?? false;
  if (enableParameter) checkPlaceholders(content);
  checkInvocationSize(content, undefined);
  const command = context.commands.add({
    name,
    description,
    type,
    content,
    enableParameter,
    timeout: timeoutSeconds(request.Timeout),
    workingDir: checkWorkingDir(request.WorkingDir ?? ''),
  });
  const reply = { CommandId: command.commandId };
  context.clientTokens.remember('CreateCommand', params, reply);
  return reply;
};
