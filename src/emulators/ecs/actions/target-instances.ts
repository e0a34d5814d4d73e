import { EcsApiError } from '../api-error.js';
import { checkInstanceIds, MAX_INSTANCES } from '../cloud-assistant-limits.js';
import { servedInstance, servedInstances, type EcsContext } from '../ecs-context.js';
import { listParam, type RequestParams } from '../request-params.js';
import { matchesTags, readTagFilters } from '../tag-filters.js';

/**
 * The instances a command goes to: `InstanceId.N` (1 to `max`), or every instance with the tags of
 * `ResourceTag.N`, never both. Each must exist. Throws `MissingParam.InstanceId`,
 * `InstanceIds.ExceedLimit`, `InvalidResourceTag.ConflictWithInstanceIds`,
 * `InvalidResourceTag.InstanceNotFound` or `InvalidInstance.NotFound`.
 */
export function targetInstances(params: RequestParams, context: EcsContext, max: number = MAX_INSTANCES): string[] {
  const ids = listParam(params, 'InstanceId');
  const tags = readTagFilters(params, 'ResourceTag');
  if (tags.length > 0) {
    if (ids.length > 0) throw new EcsApiError(400, 'InvalidResourceTag.ConflictWithInstanceIds', 'The specified param ResourceTag conflicts with InstanceId: pass one or the other.');
    const matched = servedInstances(context).filter((instance) => matchesTags(instance.tags, tags)).map((instance) => instance.id);
    if (matched.length === 0) throw new EcsApiError(400, 'InvalidResourceTag.InstanceNotFound', 'InstanceIds are not found by the specified ResourceTag.');
    return checkInstanceIds(matched, max);
  }
  const distinct = checkInstanceIds(ids, max);
  requireKnownInstances(distinct, context);
  return distinct;
}

/** Throws `InvalidInstance.NotFound` naming the ids no instance has. */
export function requireKnownInstances(ids: readonly string[], context: EcsContext): void {
  const unknown = ids.filter((id) => servedInstance(context, id) === undefined);
  if (unknown.length > 0) throw new EcsApiError(404, 'InvalidInstance.NotFound', `The specified instance does not exist: ${unknown.join(', ')}.`);
}
