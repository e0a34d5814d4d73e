import { z } from 'zod';
import { apiTime } from '../api-time.js';
import type { ActionHandler } from '../ecs-context.js';
import { overallStatus } from '../invocation-status.js';
import type { FileInvocation } from '../invocations.js';
import { paginate } from '../paging.js';
import { readParams } from '../request-params.js';

const DescribeSendFileResultsParams = {
  InvokeId: z.string().optional(),
  InstanceId: z.string().optional(),
  Name: z.string().optional(),
  InvocationStatus: z.string().optional(),
};

/**
 * DescribeSendFileResults: file sends, newest first, with the overall `InvocationStatus` and each
 * instance's (`ErrorCode` such as FileAlreadyExists when it failed). Filters: `InvokeId`,
 * `InstanceId`, `Name`, `InvocationStatus`. Paged (`MaxResults` ≤ 50).
 */
export const describeSendFileResults: ActionHandler = (params, context) => {
  const request = readParams(DescribeSendFileResultsParams, params);
  const sends = context.invocations
    .fileInvocations()
    .filter((invocation) => request.InvokeId === undefined || invocation.invokeId === request.InvokeId)
    .filter((invocation) => request.InstanceId === undefined || invocation.instances.has(request.InstanceId))
    .filter((invocation) => request.Name === undefined || invocation.file.name === request.Name)
    .map(sendView)
    .filter((view) => request.InvocationStatus === undefined || view['InvocationStatus'] === request.InvocationStatus);
  const page = paginate(sends, params, { defaultSize: 10, maxSize: 50 });
  return { Invocations: { Invocation: page.items }, ...page.reply };
};

function sendView(invocation: FileInvocation): Record<string, unknown> {
  const records = [...invocation.instances.values()];
  const { file } = invocation;
  return {
    InvokeId: invocation.invokeId,
    Name: file.name,
    Description: file.description,
    Content: file.sentContent,
    ContentType: file.contentType,
    TargetDir: file.targetDir,
    FileMode: file.fileMode,
    FileOwner: file.fileOwner,
    FileGroup: file.fileGroup,
    Overwrite: String(file.overwrite),
    CreationTime: apiTime(invocation.creationTime),
    InvocationStatus: overallStatus(records.map((record) => record.status), false),
    VmCount: records.length,
    InvokeInstances: {
      InvokeInstance: records.map((record) => ({
        InstanceId: record.instanceId,
        InvocationStatus: record.status,
        ErrorCode: record.errorCode,
        ErrorInfo: record.errorInfo,
        CreationTime: apiTime(record.creationTime),
        StartTime: apiTime(record.startTime),
        FinishTime: apiTime(record.finishedTime),
        UpdateTime: apiTime(record.updateTime),
      })),
    },
  };
}
