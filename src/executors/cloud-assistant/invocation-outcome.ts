/** What Cloud Assistant says about one instance's run, as rollcall reads it. */
export interface InstanceRun {
  instance: string;
  /** InvocationStatus: Success, Failed, Timeout, Aborted, … */
  status: string;
  exitCode?: number;
  errorCode?: string;
  errorInfo?: string;
  /** The agent's output, decoded. */
  output: string;
  /** Bytes Cloud Assistant cut from the output (it keeps 24 KB). */
  dropped: number;
  /** From the run's start to its end, when Cloud Assistant reported both. */
  durationMs?: number;
}

/** Overall statuses (DescribeInvocations) after which an invocation will not change any more. */
export const FINAL_INVOCATION_STATUSES: ReadonlySet<string> = new Set(['Success', 'Failed', 'PartialFailed', 'Stopped', 'Cancelled', 'Terminated', 'Error', 'Timeout', 'Invalid', 'Aborted']);

/** Statuses after which an instance's run will not change any more. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['Success', 'Failed', 'Error', 'Timeout', 'Cancelled', 'Terminated', 'Invalid', 'Aborted', 'Stopped']);

const ERROR_CODES: Record<string, string> = {
  InstanceNotExists: 'the instance does not exist (released?): remove it from its hostgroup',
  InstanceReleased: 'the instance was released: remove it from its hostgroup',
  InstanceNotRunning: 'the instance is not running: start it, or remove it from its hostgroup',
  ClientNotRunning: 'Cloud Assistant is not running on the instance: start it (systemctl start aliyun) and try again',
  ClientNotResponse: 'Cloud Assistant on the instance does not answer: check the aliyun service and the network to Cloud Assistant',
  ClientIsUpgrading: 'Cloud Assistant on the instance is upgrading: try again in a minute',
  ClientNeedUpgrade: 'Cloud Assistant on the instance is too old: upgrade the Cloud Assistant client',
  DeliveryTimeout: 'the command was not delivered to the instance in time: check that its Cloud Assistant is connected',
  ExecutionTimeout: 'the agent did not finish in time and was stopped: raise the timeout, or look at what blocks useradd there (a held /etc/passwd lock?)',
  ExecutionException: 'the command could not be run on the instance',
  ExecutionInterrupted: 'the run was interrupted (the instance restarted, or the task was stopped)',
  TaskConcurrencyLimit: 'too many Cloud Assistant tasks run on the instance: try again later',
  AccountNotExists: 'the account to run as does not exist on the instance',
};

/** A message a person can act on for a run that did not succeed, or undefined for a success. */
export function describeRun(run: InstanceRun): string | undefined {
  if (run.status === 'Success') return undefined;
  const known = run.errorCode ? ERROR_CODES[run.errorCode] : undefined;
  const detail = run.errorInfo ? ` (${run.errorInfo})` : '';
  switch (run.status) {
    case 'Timeout':
      return `${ERROR_CODES.ExecutionTimeout}${detail}`;
    case 'Aborted':
      return `the command was not delivered within a minute (Aborted): check that Cloud Assistant on the instance is running and connected${detail}`;
    case 'Cancelled':
    case 'Stopped':
    case 'Terminated':
      return `the run was stopped before it finished (${run.status})${detail}`;
    case 'Invalid':
      return `Cloud Assistant refused the command as invalid for this instance (is it Linux?)${detail}`;
    default:
      if (known) return `${known}${detail}`;
      if (run.errorCode === 'ExitCodeNonzero' || run.exitCode !== undefined) return `the agent exited with ${run.exitCode ?? 'an error'}`;
      return `the run ended ${run.status}${run.errorCode ? ` (${run.errorCode})` : ''}${detail}`;
  }
}
