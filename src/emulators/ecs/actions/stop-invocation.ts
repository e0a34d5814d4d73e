import { z } from 'zod';
import { EcsApiError } from '../api-error.js';
import { MAX_FILE_OR_STOP_INSTANCES } from '../cloud-assistant-limits.js';
import type { ActionHandler } from '../ecs-context.js';
import { listParam, readParams } from '../request-params.js';

const StopInvocationParams = {
  InvokeId: z.string(),
};

/**
 * StopInvocation: stops a command invocation on `InstanceId.N` (≤ 50), or everywhere without it.
 * Pending instances end Cancelled, running ones Stopping and then Terminated (their processes are
 * killed); finished ones are left alone. Unknown InvokeId: `InvalidInvokeId.NotFound`.
 */
export const stopInvocation: ActionHandler = (params, context) => {
  const { InvokeId } = readParams(StopInvocationParams, params);
  const invocation = context.invocations.get(InvokeId);
  if (invocation === undefined || invocation.kind !== 'command') throw new EcsApiError(404, 'InvalidInvokeId.NotFound', `The specified invoke ID does not exist: ${InvokeId}.`);
  const ids = [...new Set(listParam(params, 'InstanceId'))];
  if (ids.length > MAX_FILE_OR_STOP_INSTANCES) {
    throw new EcsApiError(403, 'InstanceIds.ExceedLimit', `The number of instance IDs exceeds the upper limit: ${ids.length} given, at most ${MAX_FILE_OR_STOP_INSTANCES} are allowed.`);
  }
  const strangers = ids.filter((id) => !invocation.instances.has(id));
  if (strangers.length > 0) throw new EcsApiError(404, 'InvalidInstance.NotFound', `The specified instance does not exist in invocation ${InvokeId}: ${strangers.join(', ')}.`);
  context.invocations.stop(invocation, ids.length > 0 ? ids : undefined);
  return {};
};
