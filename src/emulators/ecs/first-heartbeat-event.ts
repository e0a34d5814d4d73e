import { cloudAssistantEvent, type CloudAssistantEvent } from './task-completed-event.js';

/**
 * The Cloud Assistant client version the emulator's instances report. The same value as
 * DescribeCloudAssistantStatus's `CloudAssistantVersion`.
 */
export const EMULATED_CLIENT_VERSION = '2.2.3.999';

/**
 * The CloudEvent Cloud Assistant publishes to EventBridge when an instance's agent reports for the
 * first time: a new instance is ready to take commands. The documentation names the event but
 * shows no sample of its `data`. These fields are the emulator's choice (see README.md).
 */
export type FirstHeartbeatEvent = CloudAssistantEvent<
  'ecs:CloudAssistant:FirstHeartbeat',
  {
    instanceId: string;
    regionId: string;
    /** ISO 8601, UTC. */
    firstHeartbeatTime: string;
    clientVersion: string;
  }
>;

/** What the event says about the new instance. */
export interface FirstHeartbeatFields {
  accountId: string;
  regionId: string;
  instanceId: string;
  firstHeartbeatTime: Date;
  /** Default {@link EMULATED_CLIENT_VERSION}. */
  clientVersion?: string;
}

/** The event for an instance whose agent has just reported. Pure but for its fresh id and publish time. */
export function firstHeartbeatEvent(fields: FirstHeartbeatFields, now: Date = new Date()): FirstHeartbeatEvent {
  return cloudAssistantEvent(
    { type: 'ecs:CloudAssistant:FirstHeartbeat', accountId: fields.accountId, regionId: fields.regionId, instanceId: fields.instanceId, time: fields.firstHeartbeatTime },
    {
      instanceId: fields.instanceId,
      regionId: fields.regionId,
      firstHeartbeatTime: fields.firstHeartbeatTime.toISOString(),
      clientVersion: fields.clientVersion ?? EMULATED_CLIENT_VERSION,
    },
    now,
  );
}
