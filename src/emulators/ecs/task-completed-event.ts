import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A CloudEvent as Cloud Assistant publishes it to EventBridge: the envelope every one of its
 * events shares (source `acs.ecs`, the instance as subject, the `aliyun*` extensions), around its
 * `type` and `data`.
 */
export interface CloudAssistantEvent<Type extends string, Data> {
  id: string;
  source: 'acs.ecs';
  specversion: '1.0';
  type: Type;
  /** `acs:ecs:<region>:<account>:instance/<instance id>`. */
  subject: string;
  /** When it happened. */
  time: string;
  datacontenttype: 'application/json;charset=utf-8';
  dataschema: string;
  aliyunaccountid: string;
  /** When it was published. */
  aliyunpublishtime: string;
  aliyuneventbusname: string;
  aliyunregionid: string;
  aliyunpublishaddr: string;
  data: Data;
}

/** What the envelope says: which event, about which instance, when. */
export interface CloudAssistantEnvelopeFields<Type extends string> {
  type: Type;
  accountId: string;
  regionId: string;
  instanceId: string;
  /** When it happened (`time`). */
  time: Date;
}

/** Wraps `data` in the envelope. Pure but for its fresh id; `now` is the publish time. */
export function cloudAssistantEvent<Type extends string, Data>(fields: CloudAssistantEnvelopeFields<Type>, data: Data, now: Date = new Date()): CloudAssistantEvent<Type, Data> {
  return {
    id: randomUUID(),
    source: 'acs.ecs',
    specversion: '1.0',
    type: fields.type,
    subject: `acs:ecs:${fields.regionId}:${fields.accountId}:instance/${fields.instanceId}`,
    time: fields.time.toISOString(),
    datacontenttype: 'application/json;charset=utf-8',
    dataschema: '',
    aliyunaccountid: fields.accountId,
    aliyunpublishtime: now.toISOString(),
    aliyuneventbusname: 'default',
    aliyunregionid: fields.regionId,
    aliyunpublishaddr: '127.0.0.1',
    data,
  };
}

/**
 * The CloudEvent Cloud Assistant publishes to EventBridge when one instance's run of a command
 * reaches Aborted, Success, Failed, Invalid, Timeout, Cancelled or Terminated.
 */
export type TaskCompletedEvent = CloudAssistantEvent<
  'ecs:CloudAssistant:TaskCompleted',
  {
    commandId: string;
    commandName: string;
    /** The exit code as a string; "-1" when the script never exited by itself (not run, killed). */
    exitCode: string;
    finishTime: string;
    instanceId: string;
    invocationStatus: string;
    invokeId: string;
    regionId: string;
  }
>;

/** What an event says about one finished instance. */
export interface TaskCompletedFields {
  accountId: string;
  regionId: string;
  invokeId: string;
  commandId: string;
  commandName: string;
  instanceId: string;
  invocationStatus: string;
  exitCode: number | undefined;
  finishTime: Date;
}

/** The event for one finished instance. Pure but for its fresh id and publish time. */
export function taskCompletedEvent(fields: TaskCompletedFields, now: Date = new Date()): TaskCompletedEvent {
  return cloudAssistantEvent(
    { type: 'ecs:CloudAssistant:TaskCompleted', accountId: fields.accountId, regionId: fields.regionId, instanceId: fields.instanceId, time: fields.finishTime },
    {
      commandId: fields.commandId,
      commandName: fields.commandName,
      exitCode: String(fields.exitCode ?? -1),
      finishTime: fields.finishTime.toISOString(),
      instanceId: fields.instanceId,
      invocationStatus: fields.invocationStatus,
      invokeId: fields.invokeId,
      regionId: fields.regionId,
    },
    now,
  );
}

const ATTEMPTS = 3;
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Posts events to one URL as structured CloudEvents (`application/cloudevents+json`), in the
 * background: a slow or absent receiver never holds up the emulator. Each event is tried three
 * times; what still fails is counted, not thrown.
 */
export class EventPoster {
  readonly url: string;
  /** Events given up on after every attempt failed. */
  failures = 0;
  /** Why the last attempt that failed did. */
  lastError: Error | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(url: string) {
    this.url = url;
  }

  /** Sends any Cloud Assistant event (TaskCompleted, FirstHeartbeat) in the background. */
  post(event: CloudAssistantEvent<string, unknown>): void {
    const delivery = this.#deliver(event);
    this.#inFlight.add(delivery);
    void delivery.finally(() => this.#inFlight.delete(delivery));
  }

  /** Waits until every event posted so far has been delivered or given up on. */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #deliver(event: CloudAssistantEvent<string, unknown>): Promise<void> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const response = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await response.arrayBuffer();
        if (response.ok) return;
        this.lastError = new Error(`${this.url} answered ${response.status} ${response.statusText}`);
      } catch (error) {
        this.lastError = error as Error;
      }
      if (attempt < ATTEMPTS) await sleep(100 * 4 ** (attempt - 1));
    }
    this.failures++;
  }
}
