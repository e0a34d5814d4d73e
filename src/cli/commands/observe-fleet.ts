import type { FleetAccess } from '../../config/fleet-access.js';
import { readFleetAccess } from '../../config/fleet-access.js';
import type { DesiredState } from '../../desired/types.js';
import type { Executor, InstanceFailure } from '../../executors/types.js';
import type { ObservedState } from '../../plan/observed-state.js';
import type { CliIo } from '../io.js';

/** How a command gets its executor: from flags and env, or (in tests) given. */
export type ExecutorFactory = (desired: DesiredState) => Promise<Executor>;

export function executorFromFlags(flags: Record<string, unknown>, io: CliIo): ExecutorFactory {
  return async (desired) => {
    const access: FleetAccess = readFleetAccess(flags, io.env);
    // Loaded only by the commands that reach the fleet: the ECS SDK takes over a second to load,
    // which `validate` and `plan --observed` should not pay.
    const { createExecutor } = await import('../../executors/create-executor.js');
    return createExecutor(access, desired.fleet.region, io.env);
  };
}

/**
 * The fleet as it is: the instances the hostgroups select, read by the agent. What was left out or
 * could not be read is said on stderr; the failures are returned so that the command can fail.
 */
export async function observeFleet(executor: Executor, desired: DesiredState, io: CliIo): Promise<{ observed: ObservedState; failures: InstanceFailure[] }> {
  const { instances, warnings, unreachable } = await executor.instances(desired.fleet.hostgroups);
  for (const warning of warnings) io.stderr.write(`Warning: ${warning.instance ? `${warning.instance}: ` : ''}${warning.message}\n`);
  const inventory = await executor.inventory(instances);
  const failures = [...unreachable, ...inventory.failures];
  for (const failure of failures) io.stderr.write(`Error: ${failure.instance}: could not be read: ${failure.message}\n`);
  io.log.debug({ instances: instances.length, failures: failures.length }, 'observed the fleet');
  return { observed: inventory.observed, failures };
}
