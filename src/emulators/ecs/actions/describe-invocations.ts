import { z } from 'zod';
import { apiTime } from '../api-time.js';
import type { ActionHandler, EcsContext } from '../ecs-context.js';
import { encodeContent } from '../encode-content.js';
import { invokeRecordStatus, legacyInvokeStatus, overallStatus } from '../invocation-status.js';
import type { CommandInvocation } from '../invocations.js';
import { paginate } from '../paging.js';
import { BooleanParam, readParams } from '../request-params.js';

const DescribeInvocationsParams = {
  InvokeId: z.string().optional(),
  CommandId: z.string().optional(),
  CommandName: z.string().optional(),
  CommandType: z.string().optional(),
  InstanceId: z.string().optional(),
  InvokeStatus: z.string().optional(),
  ContentEncoding: z.string().optional(),
  IncludeOutput: BooleanParam.optional(),
};

/**
 * DescribeInvocations: command invocations, newest first, with their overall `InvocationStatus`
 * (Pending, Running, Stopping, Success, Failed, PartialFailed, Stopped) and each instance's part.
 * Filters: `InvokeId`, `CommandId`, `CommandName`, `CommandType`, `InstanceId`, `InvokeStatus`
 * (overall or the older InvokeStatus). `Output` only with `IncludeOutput=true`. Paged (≤ 50).
 */
export const describeInvocations: ActionHandler = (params, context) => {
  const request = readParams(DescribeInvocationsParams, params);
  const invocations = context.invocations
    .commandInvocations()
    .filter((invocation) => request.InvokeId === undefined || invocation.invokeId === request.InvokeId)
    .filter((invocation) => request.CommandId === undefined || invocation.command.commandId === request.CommandId)
    .filter((invocation) => request.CommandName === undefined || invocation.command.commandName === request.CommandName)
    .filter(() => request.CommandType === undefined || request.CommandType === 'RunShellScript')
    .filter((invocation) => request.InstanceId === undefined || invocation.instances.has(request.InstanceId))
    .map((invocation) => invocationView(invocation, context, request.ContentEncoding, request.IncludeOutput ?? false))
    .filter((view) => request.InvokeStatus === undefined || view['InvocationStatus'] === request.InvokeStatus || view['InvokeStatus'] === request.InvokeStatus);
  const page = paginate(invocations, params, { defaultSize: 10, maxSize: 50 });
  return { Invocations: { Invocation: page.items }, ...page.reply };
};

function invocationView(invocation: CommandInvocation, context: EcsContext, contentEncoding: string | undefined, includeOutput: boolean): Record<string, unknown> {
  const records = [...invocation.instances.values()].map((record) => context.invocations.view(record));
  const overall = overallStatus(records.map((record) => record.status), invocation.stoppedWhole);
  const { command } = invocation;
  return {
    InvokeId: invocation.invokeId,
    CommandId: command.commandId,
    CommandName: command.commandName,
    CommandDescription: command.commandDescription,
    CommandType: 'RunShellScript',
    CommandContent: encodeContent(command.content, contentEncoding),
    Parameters: JSON.stringify(command.parameters ?? {}),
    InvocationStatus: overall,
    InvokeStatus: legacyInvokeStatus(overall),
    RepeatMode: 'Once',
    Timed: false,
    Frequency: '',
    Timeout: command.timeoutSeconds,
    WorkingDir: command.workingDir,
    Username: 'root',
    CreationTime: apiTime(invocation.creationTime),
    InvokeInstances: {
      InvokeInstance: records.map((record) => ({
        InstanceId: record.instanceId,
        InvocationStatus: record.status,
        InstanceInvokeStatus: invokeRecordStatus(record.status, record.errorCode),
        ...(record.exitCode === undefined ? {} : { ExitCode: record.exitCode }),
        ErrorCode: record.errorCode,
        ErrorInfo: record.errorInfo,
        ...(includeOutput ? { Output: encodeContent(record.output, contentEncoding), Dropped: record.dropped } : {}),
        Repeats: record.startTime === undefined ? 0 : 1,
        Timed: false,
        CreationTime: apiTime(record.creationTime),
        StartTime: apiTime(record.startTime),
        FinishTime: apiTime(record.finishedTime),
        StopTime: apiTime(record.stopTime),
        UpdateTime: apiTime(record.updateTime),
      })),
    },
  };
}
