import { z } from 'zod';
import { EcsApiError } from '../api-error.js';
import { servedInstances, type ActionHandler } from '../ecs-context.js';
import { paginate } from '../paging.js';
import { readParams } from '../request-params.js';
import type { SandboxInstance } from '../sandbox/sandbox-fleet.js';
import { matchesTags, readTagFilters } from '../tag-filters.js';

const MAX_INSTANCE_IDS = 100;

const DescribeInstancesParams = {
  InstanceIds: z.string().optional(),
  Status: z.string().optional(),
};

/** `InstanceIds` is a JSON array of strings. */
const InstanceIdList = z.array(z.string());

/**
 * DescribeInstances: the sandbox and virtual instances, all Running Linux instances of the region, filtered by
 * `Tag.N.Key`/`Tag.N.Value` (N ≤ 20), `InstanceIds` (a JSON array, ≤ 100) and `Status`, paged by
 * `MaxResults` (brought into 10..100, as documented) and `NextToken`, or `PageNumber`/`PageSize` (≤ 100).
 */
export const describeInstances: ActionHandler = (params, context) => {
  const { InstanceIds, Status } = readParams(DescribeInstancesParams, params);
  const ids = InstanceIds === undefined ? undefined : instanceIdList(InstanceIds);
  const tags = readTagFilters(params);
  const wanted = ids === undefined || ids.length === 0 ? undefined : new Set(ids);
  const instances = servedInstances(context)
    .filter((instance) => wanted === undefined || wanted.has(instance.id))
    .filter((instance) => matchesTags(instance.tags, tags))
    .filter(() => Status === undefined || Status === 'Running');
  const page = paginate(instances, params, { defaultSize: 10, maxSize: 100, clampMaxResults: true });
  return { Instances: { Instance: page.items.map((instance) => instanceView(instance, context.regionId)) }, ...page.reply };
};

function instanceIdList(json: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  const list = InstanceIdList.safeParse(parsed);
  if (!list.success) throw new EcsApiError(400, 'InvalidInstanceIds.Malformed', 'The specified InstanceIds is not valid: pass a JSON array of instance ids, such as ["i-local0001","i-local0002"].');
  if (list.data.length > MAX_INSTANCE_IDS) throw new EcsApiError(403, 'InvalidParameter.TooManyInstanceIds', `Instance ids cannot be more than ${MAX_INSTANCE_IDS}: ${list.data.length} given.`);
  return list.data;
}

function instanceView(instance: SandboxInstance, regionId: string): Record<string, unknown> {
  return {
    InstanceId: instance.id,
    InstanceName: instance.id,
    HostName: instance.id,
    Description: 'rollcall sandbox instance',
    Status: 'Running',
    OSType: 'linux',
    OSName: 'Linux (sandbox)',
    OSNameEn: 'Linux (sandbox)',
    RegionId: regionId,
    ZoneId: `${regionId}-a`,
    InstanceType: 'ecs.sandbox',
    InstanceNetworkType: 'vpc',
    Tags: { Tag: Object.entries(instance.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
  };
}
