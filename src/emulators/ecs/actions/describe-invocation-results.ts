import { z } from 'zod';
import { apiTime } from '../api-time.js';
import type { ActionHandler } from '../ecs-context.js';
import { encodeContent } from '../encode-content.js';
import { invokeRecordStatus } from '../invocation-status.js';
import { paginate } from '../paging.js';
import { readParams } from '../request-params.js';

const DescribeInvocationResultsParams = {
  InvokeId: z.string().optional(),
  InstanceId: z.string().optional(),
  CommandId: z.string().optional(),
  InvokeRecordStatus: z.string().optional(),
  ContentEncoding: z.string().optional(),
};

/**
 * DescribeInvocationResults: one result per instance and invocation, newest invocation first:
 * `InvocationStatus`, `InvokeRecordStatus`, `ExitCode` (once the script exited), `ErrorCode`,
 * `ErrorInfo`, `Output` (base64 unless `ContentEncoding` is PlainText; at most 24 KB, `Dropped` the
 * bytes cut), `StartTime`, `FinishedTime`. Filters: `InvokeId`, `InstanceId`, `CommandId`,
 * `InvokeRecordStatus`. Paged (`MaxResults` ≤ 50). A lost result (`faults.lostResult`) is absent.
 */
export const describeInvocationResults: ActionHandler = (params, context) => {
  const request = readParams(DescribeInvocationResultsParams, params);
  const results = context.invocations
    .commandInvocations()
    .filter((invocation) => request.InvokeId === undefined || invocation.invokeId === request.InvokeId)
    .filter((invocation) => request.CommandId === undefined || invocation.command.commandId === request.CommandId)
    .flatMap((invocation) =>
      [...invocation.instances.values()]
        .filter((record) => !record.faults.lostResult)
        .filter((record) => request.InstanceId === undefined || record.instanceId === request.InstanceId)
        .map((record) => ({
          CommandId: invocation.command.commandId,
          InvokeId: invocation.invokeId,
          InstanceId: record.instanceId,
          InvocationStatus: record.status,
          InvokeRecordStatus: invokeRecordStatus(record.status, record.errorCode),
          ...(record.exitCode === undefined ? {} : { ExitCode: record.exitCode }),
          ErrorCode: record.errorCode,
          ErrorInfo: record.errorInfo,
          Output: encodeContent(record.output, request.ContentEncoding),
          Dropped: record.dropped,
          Repeats: record.startTime === undefined ? 0 : 1,
          StartTime: apiTime(record.startTime),
          FinishedTime: apiTime(record.finishedTime),
          StopTime: apiTime(record.stopTime),
          Username: 'root',
        })),
    )
    .filter((result) => request.InvokeRecordStatus === undefined || result.InvokeRecordStatus === request.InvokeRecordStatus);
  const page = paginate(results, params, { defaultSize: 10, maxSize: 50 });
  return { Invocation: { InvocationResults: { InvocationResult: page.items }, ...page.reply } };
};
