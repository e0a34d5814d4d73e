import { z } from 'zod';
import { EcsApiError } from '../api-error.js';
import type { ActionHandler } from '../ecs-context.js';
import { readParams } from '../request-params.js';

const DeleteCommandParams = {
  CommandId: z.string(),
};

/** DeleteCommand: forgets a command; its past invocations stay. Unknown id: `InvalidCmdId.NotFound`. */
export const deleteCommand: ActionHandler = (params, context) => {
  const { CommandId } = readParams(DeleteCommandParams, params);
  if (!context.commands.delete(CommandId)) throw new EcsApiError(404, 'InvalidCmdId.NotFound', `The specified command ID does not exist: ${CommandId}.`);
  return {};
};
