import type { FleetAccess } from '../config/fleet-access.js';
import { CloudAssistantExecutor } from './cloud-assistant/cloud-assistant-executor.js';
import { createEcsClient } from './cloud-assistant/create-ecs-client.js';
import type { Executor } from './types.js';

/** The executors rollcall has, by name: today Cloud Assistant, the one production uses. */
const EXECUTORS: Record<string, (access: FleetAccess, region: string, env: NodeJS.ProcessEnv, hooks: ExecutorHooks) => Executor> = {
  'cloud-assistant': (access, region, env, hooks) =>
    new CloudAssistantExecutor({
      client: createEcsClient({ regionId: region, ...(access.endpoint ? { endpoint: access.endpoint } : {}) }, env),
      regionId: region,
      commandName: access.commandName,
      agentInline: access.agentInline,
      concurrency: access.concurrency,
      timeoutSeconds: access.timeoutSeconds,
      ...(access.maxErrors !== undefined ? { maxErrors: access.maxErrors } : {}),
      ...(hooks.onApiCall ? { onApiCall: hooks.onApiCall } : {}),
    }),
};

/** What a caller may observe of an executor's work. */
export interface ExecutorHooks {
  /** Every cloud API request (retries included), with the error code when it failed: metrics. */
  onApiCall?: (action: string, errorCode?: string) => void;
}

/** The executor for this fleet; `region` defaults to the one fleet.yaml names. */
export function createExecutor(access: FleetAccess, fleetRegion: string, env: NodeJS.ProcessEnv = process.env, hooks: ExecutorHooks = {}, kind = 'cloud-assistant'): Executor {
  const factory = EXECUTORS[kind];
  if (!factory) throw new Error(`unknown executor ${kind}`);
  return factory(access, access.region ?? fleetRegion, env, hooks);
}
