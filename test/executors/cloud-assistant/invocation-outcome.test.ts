import { describe, expect, it } from 'vitest';
import { describeRun, type InstanceRun } from '../../../src/executors/cloud-assistant/invocation-outcome.js';

const run = (fields: Partial<InstanceRun>): InstanceRun => ({ instance: 'i-1', status: 'Failed', output: '', dropped: 0, ...fields });

describe('describeRun', () => {
  it('has nothing to say of a success', () => {
    expect(describeRun(run({ status: 'Success' }))).toBeUndefined();
  });

  it.each([
    [{ status: 'Failed', errorCode: 'ClientNotRunning' }, 'Cloud Assistant is not running on the instance: start it'],
    [{ status: 'Failed', errorCode: 'InstanceNotRunning' }, 'the instance is not running: start it'],
    [{ status: 'Timeout', errorCode: 'ExecutionTimeout' }, 'the agent did not finish in time'],
    [{ status: 'Aborted' }, 'not delivered within a minute (Aborted)'],
    [{ status: 'Stopped' }, 'stopped before it finished (Stopped)'],
    [{ status: 'Invalid' }, 'refused the command as invalid'],
    [{ status: 'Failed', errorCode: 'ExitCodeNonzero', exitCode: 2 }, 'the agent exited with 2'],
    [{ status: 'Failed', errorCode: 'SomethingNew', errorInfo: 'why' }, 'the run ended Failed (SomethingNew) (why)'],
  ] as const)('%o says what to do', (fields, message) => {
    expect(describeRun(run(fields))).toContain(message);
  });
});
