/**
 * Cloud Assistant's status vocabulary, and how per-instance statuses add up to an invocation's.
 * Pure. Names and meanings from the DescribeInvocationResults and DescribeInvocations pages.
 */

/** One instance's progress (`InvocationStatus` of an InvocationResult). */
export type InstanceStatus =
  | 'Pending' // being checked or delivered; here also: waiting for a run slot
  | 'Running'
  | 'Stopping' // StopInvocation is ending the run
  | 'Success' // exit code 0
  | 'Failed' // non-zero exit code, or the agent is not running (ClientNotRunning)
  | 'Error' // the run could not go on (the instance vanished, the sandbox failed)
  | 'Timeout' // killed at its Timeout
  | 'Cancelled' // stopped before it started
  | 'Terminated' // stopped while it ran
  | 'Invalid' // the command does not fit the instance
  | 'Aborted'; // never delivered (within the delivery deadline)

/** Statuses a run never leaves. */
export const FINAL_STATUSES: ReadonlySet<InstanceStatus> = new Set(['Success', 'Failed', 'Error', 'Timeout', 'Cancelled', 'Terminated', 'Invalid', 'Aborted']);

/** Final statuses that send an `ecs:CloudAssistant:TaskCompleted` event. */
export const TASK_COMPLETED_STATUSES: ReadonlySet<InstanceStatus> = new Set(['Aborted', 'Success', 'Failed', 'Invalid', 'Timeout', 'Cancelled', 'Terminated']);

/** An invocation's overall status (`InvocationStatus` of DescribeInvocations). */
export type OverallStatus = 'Pending' | 'Running' | 'Stopping' | 'Success' | 'Failed' | 'PartialFailed' | 'Stopped';

/**
 * The overall status: Pending while every instance is, Stopping while any stops, Running while
 * any has not finished; then Success (all succeeded), Stopped (StopInvocation on the whole
 * invocation ended it), Failed (none succeeded) or PartialFailed.
 */
export function overallStatus(statuses: readonly InstanceStatus[], stoppedWhole: boolean): OverallStatus {
  const open = statuses.filter((status) => !FINAL_STATUSES.has(status));
  if (open.length > 0) {
    if (open.length === statuses.length && open.every((status) => status === 'Pending')) return 'Pending';
    return statuses.includes('Stopping') ? 'Stopping' : 'Running';
  }
  if (statuses.every((status) => status === 'Success')) return 'Success';
  if (stoppedWhole && statuses.some((status) => status === 'Cancelled' || status === 'Terminated')) return 'Stopped';
  return statuses.some((status) => status === 'Success') ? 'PartialFailed' : 'Failed';
}

/** The older `InvokeStatus` of DescribeInvocations: Running, Finished, Failed, PartialFailed, Stopped. */
export function legacyInvokeStatus(overall: OverallStatus): 'Running' | 'Finished' | 'Failed' | 'PartialFailed' | 'Stopped' {
  switch (overall) {
    case 'Pending':
    case 'Running':
    case 'Stopping':
      return 'Running';
    case 'Success':
      return 'Finished';
    default:
      return overall;
  }
}

/**
 * `InvokeRecordStatus` of one instance: Finished when the script ran to its end (whatever its exit
 * code), Failed when it could not, Stopped when StopInvocation ended it.
 */
export function invokeRecordStatus(status: InstanceStatus, errorCode: string): 'Pending' | 'Running' | 'Stopping' | 'Finished' | 'Failed' | 'Stopped' {
  switch (status) {
    case 'Pending':
    case 'Running':
    case 'Stopping':
      return status;
    case 'Success':
      return 'Finished';
    case 'Failed':
      return errorCode === 'ExitCodeNonzero' ? 'Finished' : 'Failed';
    case 'Cancelled':
    case 'Terminated':
      return 'Stopped';
    default:
      return 'Failed';
  }
}
