import { z } from 'zod';
import { apiTime } from '../api-time.js';
import { EcsApiError } from '../api-error.js';
import { MAX_INSTANCES } from '../cloud-assistant-limits.js';
import { servedInstance, servedInstances, type ActionHandler } from '../ecs-context.js';
import { paginate } from '../paging.js';
import { listParam, readParams } from '../request-params.js';

/** What the emulator reports as the agent version on every instance. */
const AGENT_VERSION = '2.2.3.999';

const DescribeCloudAssistantStatusParams = {
  OSType: z.string().optional(),
};

/**
 * DescribeCloudAssistantStatus: whether the Cloud Assistant agent runs on each instance, as the
 * string "true" or "false" ("false" for instances in `faults.offline`). `InstanceId.N` (≤ 100)
 * picks instances (unknown ids are left out); without it every instance is listed, paged
 * (`MaxResults` ≤ 50).
 */
export const describeCloudAssistantStatus: ActionHandler = (params, context) => {
  const { OSType } = readParams(DescribeCloudAssistantStatusParams, params);
  const ids = [...new Set(listParam(params, 'InstanceId'))];
  if (ids.length > MAX_INSTANCES) {
    throw new EcsApiError(403, 'InstanceIds.ExceedLimit', `The number of instance IDs exceeds the upper limit: ${ids.length} given, at most ${MAX_INSTANCES} are allowed.`);
  }
  const linux = OSType === undefined || OSType.toLowerCase() === 'linux';
  const instances = linux ? (ids.length > 0 ? ids.filter((id) => servedInstance(context, id) !== undefined) : servedInstances(context).map((instance) => instance.id)) : [];
  // With InstanceId.N the paging parameters are ignored, as documented.
  const page = ids.length > 0 ? { items: instances, reply: { NextToken: '', PageNumber: 1, PageSize: instances.length, TotalCount: instances.length } } : paginate(instances, params, { defaultSize: 10, maxSize: 50 });
  const now = new Date();
  return {
    InstanceCloudAssistantStatusSet: {
      InstanceCloudAssistantStatus: page.items.map((id) => {
        const online = !context.faults.offline.has(id);
        const stats = context.invocations.statsFor(id);
        return {
          InstanceId: id,
          CloudAssistantStatus: online ? 'true' : 'false',
          CloudAssistantVersion: AGENT_VERSION,
          OSType: 'Linux',
          LastHeartbeatTime: online ? apiTime(now) : '',
          InvocationCount: stats.invocationCount,
          ActiveTaskCount: stats.activeTaskCount,
          LastInvokedTime: apiTime(stats.lastInvokedTime),
          SupportSessionManager: false,
        };
      }),
    },
    ...page.reply,
  };
};
