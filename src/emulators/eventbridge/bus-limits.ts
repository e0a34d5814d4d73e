/**
 * EventBridge's quotas that the emulator enforces (Alibaba Cloud's documented limits). PutEvents
 * batches and events past them are refused as the service refuses them; a stack past the rule
 * limits is refused at load, as `apply` would fail.
 */
export const BUS_LIMITS = {
  /** Events in one PutEvents call. */
  eventsPerBatch: 16,
  /** Bytes of one PutEvents body. */
  batchBytes: 1024 * 1024,
  /** Bytes of one event (its JSON). */
  eventBytes: 256 * 1024,
  /** Rules on one bus. */
  rulesPerBus: 50,
  /** Targets of one rule. */
  targetsPerRule: 5,
} as const;
