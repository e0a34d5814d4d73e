import { describe, expect, it } from 'vitest';
import { invokeRecordStatus, legacyInvokeStatus, overallStatus } from '../../../src/emulators/ecs/invocation-status.js';

describe('overallStatus', () => {
  it('is Pending while every instance is, Running or Stopping while any is open', () => {
    expect(overallStatus(['Pending', 'Pending'], false)).toBe('Pending');
    expect(overallStatus(['Pending', 'Success'], false)).toBe('Running');
    expect(overallStatus(['Running', 'Pending'], false)).toBe('Running');
    expect(overallStatus(['Stopping', 'Running'], true)).toBe('Stopping');
  });

  it('ends Success, Failed, PartialFailed, or Stopped when the whole invocation was stopped', () => {
    expect(overallStatus(['Success', 'Success'], false)).toBe('Success');
    expect(overallStatus(['Failed', 'Timeout', 'Aborted'], false)).toBe('Failed');
    expect(overallStatus(['Success', 'Failed'], false)).toBe('PartialFailed');
    expect(overallStatus(['Terminated', 'Cancelled', 'Success'], true)).toBe('Stopped');
    // Stopping some instances only is a failure of those, not a stop of the invocation.
    expect(overallStatus(['Terminated', 'Success'], false)).toBe('PartialFailed');
    expect(legacyInvokeStatus('Success')).toBe('Finished');
    expect(legacyInvokeStatus('Pending')).toBe('Running');
  });

  it('maps per-instance statuses to InvokeRecordStatus', () => {
    expect(invokeRecordStatus('Failed', 'ExitCodeNonzero')).toBe('Finished');
    expect(invokeRecordStatus('Failed', 'ClientNotRunning')).toBe('Failed');
    expect(invokeRecordStatus('Timeout', 'ExecutionTimeout')).toBe('Failed');
    expect(invokeRecordStatus('Terminated', '')).toBe('Stopped');
    expect(invokeRecordStatus('Pending', '')).toBe('Pending');
  });
});
