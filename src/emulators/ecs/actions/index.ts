import type { ActionHandler } from '../ecs-context.js';
import { createCommand } from './create-command.js';
import { deleteCommand } from './delete-command.js';
import { describeCloudAssistantStatus } from './describe-cloud-assistant-status.js';
import { describeCommands } from './describe-commands.js';
import { describeInstances } from './describe-instances.js';
import { describeInvocationResults } from './describe-invocation-results.js';
import { describeInvocations } from './describe-invocations.js';
import { describeSendFileResults } from './describe-send-file-results.js';
import { invokeCommand } from './invoke-command.js';
import { runCommand } from './run-command.js';
import { sendFile } from './send-file.js';
import { stopInvocation } from './stop-invocation.js';

/** The emulated actions of ECS 2014-05-26, by their API names. Any other is `InvalidAction.NotFound`. */
export const ACTIONS: ReadonlyMap<string, ActionHandler> = new Map([
  ['DescribeInstances', describeInstances],
  ['DescribeCloudAssistantStatus', describeCloudAssistantStatus],
  ['CreateCommand', createCommand],
  ['DescribeCommands', describeCommands],
  ['DeleteCommand', deleteCommand],
  ['InvokeCommand', invokeCommand],
  ['RunCommand', runCommand],
  ['DescribeInvocations', describeInvocations],
  ['DescribeInvocationResults', describeInvocationResults],
  ['StopInvocation', stopInvocation],
  ['SendFile', sendFile],
  ['DescribeSendFileResults', describeSendFileResults],
]);
