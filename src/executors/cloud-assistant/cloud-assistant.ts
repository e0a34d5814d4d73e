import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RollcallError } from '../../config/errors.js';
import { Ecs, type EcsClient } from './create-ecs-client.js';
import { FINAL_INVOCATION_STATUSES, FINAL_STATUSES, type InstanceRun } from './invocation-outcome.js';
import { InvocationWakeups } from './invocation-wakeups.js';
import { withRetry, type RetryOptions } from './retry.js';

/** Cloud Assistant's limits that shape how rollcall calls it. */
export const MAX_INSTANCES_PER_CALL = 100;
const MAX_RESULTS_PER_PAGE = 50;

export interface CloudAssistantOptions {
  regionId: string;
  retry?: RetryOptions;
  /** Told of every request sent to the API (retries included) and the error code of each that failed: metrics. */
  onApiCall?: (action: string, errorCode?: string) => void;
  /** The first wait between result polls; it grows to `maxPollMs`. */
  firstPollMs?: number;
  maxPollMs?: number;
}

export interface InvokeRequest {
  commandId: string;
  instances: readonly string[];
  parameters: Record<string, string>;
  /** Seconds Cloud Assistant lets the script run. */
  timeoutSeconds: number;
  /** Idempotency: the same token is the same invocation, never a second run (ASCII, ≤ 64). */
  clientToken?: string;
  /** Told of each invocation before it is started and once it has an InvokeId (a write-ahead journal). */
  journal?: InvocationJournal;
}

/** Where a caller records invocations, so that a restart reads them instead of starting new ones. */
export interface InvocationJournal {
  /** Called (and awaited) before the InvokeCommand/RunCommand request is sent. */
  starting(invocation: { clientToken: string; instances: readonly string[] }): void | Promise<void>;
  started(invocation: { clientToken: string; invokeId: string }): void | Promise<void>;
}

/**
 * Cloud Assistant through the SDK: every call retried by {@link withRetry}, invocations split at
 * 100 instances, results read page by page with polling that starts fast and backs off.
 */
export class CloudAssistant {
  readonly #wakeups = new InvocationWakeups();

  constructor(
    private readonly client: EcsClient,
    private readonly options: CloudAssistantOptions,
  ) {}

  private async call<T>(action: string, work: () => Promise<T>): Promise<T> {
    const observed = this.options.onApiCall
      ? async () => {
          try {
            const reply = await work();
            this.options.onApiCall!(action);
            return reply;
          } catch (error) {
            this.options.onApiCall!(action, String((error as { code?: unknown } | undefined)?.code ?? 'NetworkError'));
            throw error;
          }
        }
      : work;
    try {
      return await withRetry(observed, this.options.retry);
    } catch (error) {
      throw explainApiError(error);
    }
  }

  /** Cloud Assistant said a task of this invocation completed (TaskCompleted): its poll runs now. */
  invocationCompleted(invokeId: string): void {
    this.#wakeups.completed(invokeId);
  }

  /** The registered command of this name, with its content decoded; undefined when there is none. */
  async findCommand(name: string): Promise<{ commandId: string; content: string } | undefined> {
    const response = await this.call('DescribeCommands', () => this.client.describeCommands(new Ecs.DescribeCommandsRequest({ regionId: this.options.regionId, name, maxResults: 50 })));
    const command = response.body?.commands?.command?.find((entry) => entry.name === name);
    if (!command?.commandId) return undefined;
    return { commandId: command.commandId, content: Buffer.from(command.commandContent ?? '', 'base64').toString('utf8') };
  }

  /** Runs a registered command on the instances and waits for every instance's result. */
  async invoke(request: InvokeRequest): Promise<InstanceRun[]> {
    return this.start(request, request.commandId, (ids, token) =>
      this.client.invokeCommand(
        new Ecs.InvokeCommandRequest({
          regionId: this.options.regionId,
          commandId: request.commandId,
          instanceId: [...ids],
          parameters: request.parameters,
          timeout: request.timeoutSeconds,
          ...(token ? { clientToken: token } : {}),
        }),
      ),
    );
  }

  /** Runs a script given inline (RunCommand) on the instances and waits for every result. */
  async run(request: RunRequest): Promise<InstanceRun[]> {
    return this.start(request, undefined, (ids, token) =>
      this.client.runCommand(
        new Ecs.RunCommandRequest({
          regionId: this.options.regionId,
          type: 'RunShellScript',
          ...(request.name ? { name: request.name } : {}),
          commandContent: Buffer.from(request.content).toString('base64'),
          contentEncoding: 'Base64',
          enableParameter: true,
          instanceId: [...ids],
          parameters: request.parameters,
          timeout: request.timeoutSeconds,
          ...(token ? { clientToken: token } : {}),
        }),
      ),
    );
  }

  /**
   * Starts one invocation per 100 instances, all at once, then waits for them together: polling
   * asks only whether each invocation has finished (DescribeInvocations, one call), and the result
   * pages of an invocation are read once, when it has.
   */
  private async start(
    request: Omit<InvokeRequest, 'commandId'>,
    commandId: string | undefined,
    send: (ids: readonly string[], token: string | undefined) => Promise<{ body?: { invokeId?: string } }>,
  ): Promise<InstanceRun[]> {
    const groups = chunks(request.instances, MAX_INSTANCES_PER_CALL);
    const started = await Promise.allSettled(
      groups.map(async (ids, index) => {
        const token = request.clientToken ? clientToken(request.clientToken, String(index * MAX_INSTANCES_PER_CALL)) : undefined;
        if (token) await request.journal?.starting({ clientToken: token, instances: ids });
        const response = await this.call(commandId ? 'InvokeCommand' : 'RunCommand', () => send(ids, token));
        const invokeId = response.body?.invokeId;
        if (!invokeId) throw new RollcallError('internal', 'Cloud Assistant returned no InvokeId');
        if (token) await request.journal?.started({ clientToken: token, invokeId });
        return { invokeId, instances: ids };
      }),
    );
    const runs = new Map<string, InstanceRun>();
    // A batch that could not be started fails its instances; the batches that did start still run,
    // and their results are read: what really happened on them is reported.
    started.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') return;
      const reason = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
      for (const id of groups[index]!) runs.set(id, { instance: id, status: 'Error', errorCode: 'NotStarted', errorInfo: `the invocation could not be started: ${reason}`, output: '', dropped: 0 });
    });
    if (runs.size === request.instances.length) throw (started.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult).reason;
    const batches = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const deadline = Date.now() + (request.timeoutSeconds + 90) * 1000;
    const pending = new Map(batches.map((batch) => [batch.invokeId, batch.instances]));
    let delay = this.options.firstPollMs ?? 250;
    while (pending.size > 0) {
      await this.#wakeups.wait(delay, pending.keys());
      delay = Math.min(this.options.maxPollMs ?? 3000, Math.ceil(delay * 1.5));
      const late = Date.now() > deadline;
      const statuses = late ? undefined : await this.invocationStatuses([...pending.keys()], commandId);
      for (const [invokeId, instances] of pending) {
        if (statuses && !FINAL_INVOCATION_STATUSES.has(statuses.get(invokeId) ?? 'Pending')) continue;
        for (const run of await this.results(invokeId, instances, late)) runs.set(run.instance, run);
        pending.delete(invokeId);
      }
    }
    return request.instances.map((id) => runs.get(id)!);
  }

  /**
   * The overall status of each invocation: Pending, Running, … Success, Failed, PartialFailed,
   * Stopped. Several invocations of one command are asked about in one call (the command's
   * invocations, newest first), one invocation by its id.
   */
  private async invocationStatuses(invokeIds: readonly string[], commandId: string | undefined): Promise<Map<string, string>> {
    const statuses = new Map<string, string>();
    const record = (invocations: readonly { invokeId?: string; invocationStatus?: string; invokeStatus?: string }[] | undefined) => {
      for (const invocation of invocations ?? []) {
        if (invocation.invokeId) statuses.set(invocation.invokeId, invocation.invocationStatus ?? invocation.invokeStatus ?? 'Pending');
      }
    };
    if (invokeIds.length > 1 && commandId) {
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const response = await this.call('DescribeInvocations', () =>
          this.client.describeInvocations(new Ecs.DescribeInvocationsRequest({ regionId: this.options.regionId, commandId, maxResults: MAX_RESULTS_PER_PAGE, ...(nextToken ? { nextToken } : {}) })),
        );
        record(response.body?.invocations?.invocation);
        nextToken = response.body?.nextToken || undefined;
      } while (nextToken && ++pages < 4 && invokeIds.some((id) => !statuses.has(id)));
    }
    for (const invokeId of invokeIds.filter((id) => !statuses.has(id))) {
      const response = await this.call('DescribeInvocations', () => this.client.describeInvocations(new Ecs.DescribeInvocationsRequest({ regionId: this.options.regionId, invokeId })));
      record(response.body?.invocations?.invocation);
    }
    return statuses;
  }

  /**
   * Invocations of the command with this name that have not ended yet (Pending, Scheduled, Running,
   * Stopping), newest first: what an earlier process started and may not have seen finish.
   */
  async unfinishedInvocations(commandName: string): Promise<string[]> {
    const unfinished: string[] = [];
    let nextToken: string | undefined;
    do {
      const response = await this.call('DescribeInvocations', () =>
        this.client.describeInvocations(new Ecs.DescribeInvocationsRequest({ regionId: this.options.regionId, commandName, maxResults: MAX_RESULTS_PER_PAGE, ...(nextToken ? { nextToken } : {}) })),
      );
      for (const invocation of response.body?.invocations?.invocation ?? []) {
        const status = invocation.invocationStatus ?? invocation.invokeStatus ?? 'Pending';
        if (invocation.invokeId && !FINAL_INVOCATION_STATUSES.has(status) && status !== 'Finished') unfinished.push(invocation.invokeId);
      }
      nextToken = response.body?.nextToken || undefined;
    } while (nextToken);
    return unfinished;
  }

  /** Waits until none of these invocations is running any more (or the deadline passes); returns those still running. */
  async waitForInvocations(invokeIds: readonly string[], timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let pending = [...invokeIds];
    let delay = this.options.firstPollMs ?? 250;
    while (pending.length > 0 && Date.now() < deadline) {
      const statuses = await this.invocationStatuses(pending, undefined);
      pending = pending.filter((id) => !FINAL_INVOCATION_STATUSES.has(statuses.get(id) ?? 'Pending') && statuses.get(id) !== 'Finished');
      if (pending.length === 0) break;
      await sleep(delay);
      delay = Math.min(this.options.maxPollMs ?? 3000, Math.ceil(delay * 1.5));
    }
    return pending;
  }

  /** Running Linux instances whose tags include all of `tags`, every page. */
  async describeByTags(tags: Readonly<Record<string, string>>): Promise<CloudAssistantInstances['instances']> {
    const tag = Object.entries(tags).map(([key, value]) => new Ecs.DescribeInstancesRequestTag({ key, value }));
    return this.describeInstances({ tag });
  }

  /** The instances with these ids that exist, 100 ids a call. */
  async describeByIds(ids: readonly string[]): Promise<CloudAssistantInstances['instances']> {
    const found: CloudAssistantInstances['instances'] = [];
    for (let start = 0; start < ids.length; start += MAX_INSTANCES_PER_CALL) {
      found.push(...(await this.describeInstances({ instanceIds: JSON.stringify(ids.slice(start, start + MAX_INSTANCES_PER_CALL)) })));
    }
    return found;
  }

  /** Whether Cloud Assistant runs on each instance ("true"/"false" on the wire). */
  async assistantStatus(ids: readonly string[]): Promise<Map<string, boolean>> {
    const status = new Map<string, boolean>();
    for (let start = 0; start < ids.length; start += MAX_INSTANCES_PER_CALL) {
      const response = await this.call('DescribeCloudAssistantStatus', () =>
        this.client.describeCloudAssistantStatus(
          new Ecs.DescribeCloudAssistantStatusRequest({ regionId: this.options.regionId, instanceId: ids.slice(start, start + MAX_INSTANCES_PER_CALL), maxResults: MAX_INSTANCES_PER_CALL }),
        ),
      );
      for (const entry of response.body?.instanceCloudAssistantStatusSet?.instanceCloudAssistantStatus ?? []) {
        if (entry.instanceId) status.set(entry.instanceId, entry.cloudAssistantStatus === 'true');
      }
    }
    return status;
  }

  private async describeInstances(filter: { tag?: InstanceType<typeof Ecs.DescribeInstancesRequestTag>[]; instanceIds?: string }): Promise<CloudAssistantInstances['instances']> {
    const found: CloudAssistantInstances['instances'] = [];
    let nextToken: string | undefined;
    do {
      const response = await this.call('DescribeInstances', () =>
        this.client.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: this.options.regionId, maxResults: MAX_INSTANCES_PER_CALL, ...filter, ...(nextToken ? { nextToken } : {}) })),
      );
      for (const instance of response.body?.instances?.instance ?? []) {
        if (!instance.instanceId) continue;
        const tags = Object.fromEntries((instance.tags?.tag ?? []).flatMap((tag) => (tag.tagKey ? [[tag.tagKey, tag.tagValue ?? '']] : [])));
        found.push({
          id: instance.instanceId,
          tags,
          ...(instance.instanceName ? { name: instance.instanceName } : {}),
          ...(instance.OSType ? { osType: instance.OSType } : {}),
          ...(instance.status ? { status: instance.status } : {}),
        });
      }
      nextToken = response.body?.nextToken || undefined;
    } while (nextToken);
    return found;
  }

  /** Installs a file on the instances (SendFile), as root, replacing what is there, and waits until it is delivered. */
  async sendFile(file: { instances: readonly string[]; targetDir: string; name: string; content: string | Buffer; mode: string }): Promise<void> {
    for (let start = 0; start < file.instances.length; start += MAX_INSTANCES_PER_CALL) {
      const response = await this.call('SendFile', () =>
        this.client.sendFile(
          new Ecs.SendFileRequest({
            regionId: this.options.regionId,
            instanceId: file.instances.slice(start, start + MAX_INSTANCES_PER_CALL),
            targetDir: file.targetDir,
            name: file.name,
            content: Buffer.from(file.content).toString('base64'),
            contentType: 'Base64',
            fileMode: file.mode,
            fileOwner: 'root',
            overwrite: true,
          }),
        ),
      );
      const invokeId = response.body?.invokeId;
      if (invokeId) await this.sendFileDelivered(invokeId);
    }
  }

  /** Waits for a SendFile to end on every instance; a failure shows when the agent is run again. */
  private async sendFileDelivered(invokeId: string): Promise<void> {
    const deadline = Date.now() + 120_000;
    let delay = this.options.firstPollMs ?? 100;
    while (Date.now() < deadline) {
      const response = await this.call('DescribeSendFileResults', () => this.client.describeSendFileResults(new Ecs.DescribeSendFileResultsRequest({ regionId: this.options.regionId, invokeId })));
      const invocation = response.body?.invocations?.invocation?.[0];
      const pending = (invocation?.invokeInstances?.invokeInstance ?? []).some((instance) => !FINAL_STATUSES.has(instance.invocationStatus ?? 'Pending'));
      if (invocation && !pending) return;
      await sleep(delay);
      delay = Math.min(this.options.maxPollMs ?? 3000, Math.ceil(delay * 1.5));
    }
  }

  /**
   * The result of each instance of a finished invocation, every page read once. `late`: the wait is
   * over, and an instance without a final result is reported as timed out.
   */
  private async results(invokeId: string, instances: readonly string[], late: boolean): Promise<InstanceRun[]> {
    const seen = new Map<string, InstanceRun>();
    let nextToken: string | undefined;
    do {
      const response = await this.call('DescribeInvocationResults', () =>
        this.client.describeInvocationResults(
          new Ecs.DescribeInvocationResultsRequest({ regionId: this.options.regionId, invokeId, maxResults: MAX_RESULTS_PER_PAGE, contentEncoding: 'Base64', ...(nextToken ? { nextToken } : {}) }),
        ),
      );
      for (const result of response.body?.invocation?.invocationResults?.invocationResult ?? []) {
        if (!result.instanceId) continue;
        seen.set(result.instanceId, {
          instance: result.instanceId,
          status: result.invocationStatus ?? 'Pending',
          ...(result.exitCode !== undefined && result.exitCode !== null ? { exitCode: result.exitCode } : {}),
          ...(result.errorCode ? { errorCode: result.errorCode } : {}),
          ...(result.errorInfo ? { errorInfo: result.errorInfo } : {}),
          output: Buffer.from(result.output ?? '', 'base64').toString('utf8'),
          dropped: result.dropped ?? 0,
          ...runDuration(result.startTime, result.finishedTime),
        });
      }
      nextToken = response.body?.invocation?.nextToken || undefined;
    } while (nextToken);
    return instances.map((id) => {
      const run = seen.get(id);
      if (run && FINAL_STATUSES.has(run.status)) return run;
      const why = late ? 'no final result before the deadline' : 'the invocation ended without a result for this instance';
      return { instance: id, status: 'Timeout', errorCode: 'ResultTimeout', errorInfo: `${why} (invocation ${invokeId})`, output: '', dropped: 0 };
    });
  }
}

/** How long a run took, from the API's StartTime and FinishedTime (ISO 8601), when it gave both. */
function runDuration(start: string | undefined, finish: string | undefined): { durationMs?: number } {
  const ms = Date.parse(finish ?? '') - Date.parse(start ?? '');
  return Number.isFinite(ms) && ms >= 0 ? { durationMs: ms } : {};
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/** A ClientToken from its parts: the same parts, the same token (ASCII hex, 64 characters). */
export function clientToken(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

export interface RunRequest extends Omit<InvokeRequest, 'commandId'> {
  /** The script itself, for RunCommand (nothing registered). */
  content: string;
  /** The name the run's command gets, so that its invocations can be found by name later. */
  name?: string;
}

export interface CloudAssistantInstances {
  instances: { id: string; name?: string; tags: Record<string, string>; osType?: string; status?: string }[];
}

/** An SDK error as a RollcallError that says what to do; the SDK's own stays as the cause. */
export function explainApiError(error: unknown): RollcallError {
  if (error instanceof RollcallError) return error;
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  const text = String(message ?? error);
  if (/unable to get credentials/i.test(text)) {
    return new RollcallError('invalid-input', 'no Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (or a credentials profile, or a RAM role)', { cause: error });
  }
  const hints: Record<string, string> = {
    SignatureDoesNotMatch: 'check ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    'InvalidAccessKeyId.NotFound': 'check ALIBABA_CLOUD_ACCESS_KEY_ID',
    IncompleteSignature: 'the request was not signed as the API expects',
    Forbidden: 'the RAM policy of these credentials does not allow it',
  };
  const hint = code && hints[code] ? `: ${hints[code]}` : '';
  return new RollcallError('cloud-api', `the ECS API refused the request${code ? ` (${code})` : ''}${hint}: ${text.split('\n')[0]}`, { cause: error });
}
