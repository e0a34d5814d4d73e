import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { AGENT_COMMAND_NAME, AGENT_INSTALL_PATH, AGENT_MISSING_EXIT_CODE, AGENT_SCRIPT, agentParameters, agentStub, type AgentMode } from '../../agent/agent-script.js';
import { chunkOperations, operationsFor } from '../../agent/encode-operations.js';
import { mergeInventoryPages, parseApplyOutput, parseInventoryPage, type InventoryPage } from '../../agent/parse-agent-output.js';
import { RollcallError } from '../../config/errors.js';
import { compareStrings } from '../../desired/compare-strings.js';
import type { Hostgroup } from '../../desired/schema.js';
import type { ObservedInstance } from '../../plan/observed-state.js';
import type { Plan } from '../../plan/types.js';
import type {
  ApplyOptions,
  ApplyResult,
  Executor,
  FleetInstance,
  InstanceApplyResult,
  InstanceFailure,
  InstanceList,
  InventoryResult,
  ProgressOptions,
} from '../types.js';
import { clientToken, CloudAssistant, type CloudAssistantOptions, type InvocationJournal } from './cloud-assistant.js';
import type { EcsClient } from './create-ecs-client.js';
import { describeRun, type InstanceRun } from './invocation-outcome.js';

export interface CloudAssistantExecutorOptions extends CloudAssistantOptions {
  client: EcsClient;
  /** The registered agent command's name (the stack's). */
  commandName?: string;
  /** Send the agent stub with each call (RunCommand) instead of using the registered command. */
  agentInline?: boolean;
  /** Invocations in flight at once (like SSM's MaxConcurrency). */
  concurrency?: number;
  /** Failed instances after which no new batch starts (like SSM's MaxErrors); default: no limit. */
  maxErrors?: number;
  /** Seconds one agent run may take. */
  timeoutSeconds?: number;
}

type AgentCall = { mode: AgentMode; ops?: string; page?: string; clientToken?: string; journal?: InvocationJournal };

/**
 * The Executor on ECS Cloud Assistant. It runs the agent through the registered command (refusing
 * one whose content is not this rollcall's stub), installs the agent with SendFile where the stub
 * reports it missing, shares one invocation among instances whose operations are identical, and
 * splits operations into invocations that fit Cloud Assistant's size limit.
 */
export class CloudAssistantExecutor implements Executor {
  private readonly assistant: CloudAssistant;
  private commandId?: Promise<string | undefined>;

  constructor(private readonly options: CloudAssistantExecutorOptions) {
    this.assistant = new CloudAssistant(options.client, options);
  }

  async instances(hostgroups: Readonly<Record<string, Hostgroup>>): Promise<InstanceList> {
    const found = new Map<string, { id: string; name?: string; tags: Record<string, string>; osType?: string; status?: string }>();
    const warnings: InstanceList['warnings'] = [];
    const unreachable: InstanceFailure[] = [];
    for (const [name, group] of Object.entries(hostgroups).sort(([a], [b]) => compareStrings(a, b))) {
      if (group.tags && Object.keys(group.tags).length > 0) for (const instance of await this.assistant.describeByTags(group.tags)) found.set(instance.id, instance);
      if (group.instanceIds && group.instanceIds.length > 0) {
        const byId = await this.assistant.describeByIds(group.instanceIds);
        for (const instance of byId) found.set(instance.id, instance);
        for (const id of group.instanceIds) {
          if (!byId.some((instance) => instance.id === id)) warnings.push({ instance: id, message: `is listed in hostgroups.${name} but does not exist in this region (released?)` });
        }
      }
    }
    const candidates = [...found.values()].filter((instance) => {
      if (instance.osType && instance.osType.toLowerCase() !== 'linux') {
        warnings.push({ instance: instance.id, message: `is ${instance.osType}, not Linux: rollcall manages Linux accounts only, so it is left out` });
        return false;
      }
      if (instance.status && instance.status !== 'Running') {
        unreachable.push({ instance: instance.id, message: `is ${instance.status}, not Running: left out until it runs` });
        return false;
      }
      return true;
    });
    const assistant = candidates.length > 0 ? await this.assistant.assistantStatus(candidates.map((instance) => instance.id)) : new Map<string, boolean>();
    const instances: FleetInstance[] = [];
    for (const instance of candidates.sort((a, b) => compareStrings(a.id, b.id))) {
      if (assistant.get(instance.id) === false) {
        unreachable.push({ instance: instance.id, message: 'Cloud Assistant is not running there: start it (systemctl start aliyun); the instance is left out until then' });
        continue;
      }
      instances.push({ id: instance.id, tags: instance.tags, ...(instance.name ? { name: instance.name } : {}) });
    }
    return { instances, warnings, unreachable };
  }

  async inventory(instances: readonly FleetInstance[], options: ProgressOptions = {}): Promise<InventoryResult> {
    const pages = new Map<string, InventoryPage[]>(instances.map((instance) => [instance.id, []]));
    const failures: InstanceFailure[] = [];
    let pending = new Map<string, string[]>([['', instances.map((instance) => instance.id)]]);
    let done = 0;
    while (pending.size > 0) {
      const next = new Map<string, string[]>();
      await this.pool([...pending], async ([page, ids]) => {
        for (const run of await this.runAgent(ids, { mode: 'inventory', page })) {
          if (run.status !== 'Success') {
            failures.push(failure(run));
            continue;
          }
          try {
            const parsed = parseInventoryPage(run.instance, run.output);
            pages.get(run.instance)!.push(parsed);
            if (parsed.nextPage) next.set(parsed.nextPage, [...(next.get(parsed.nextPage) ?? []), run.instance]);
            else done++;
          } catch (error) {
            failures.push({ instance: run.instance, message: run.dropped > 0 ? `the agent's output was cut by ${run.dropped} bytes` : (error as Error).message });
          }
        }
        options.onProgress?.({ done, failed: failures.length, running: instances.length - done - failures.length, total: instances.length });
      });
      pending = next;
    }
    const failed = new Set(failures.map((entry) => entry.instance));
    const observed: Record<string, ObservedInstance> = {};
    for (const instance of instances) {
      if (!failed.has(instance.id)) observed[instance.id] = mergeInventoryPages(pages.get(instance.id)!, instance.tags);
    }
    return { observed: { instances: observed }, failures };
  }

  async apply(plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
    if (plan.errors.some((error) => error.instance === undefined)) {
      throw new RollcallError('plan-refused', `the plan is refused: ${plan.errors.find((error) => error.instance === undefined)!.message}`);
    }
    const blocked = new Map<string, string>();
    for (const error of plan.errors) if (error.instance) blocked.set(error.instance, [blocked.get(error.instance), error.message].filter(Boolean).join('; '));

    // Instances whose operations are identical share their invocations.
    const batches = new Map<string, { chunks: string[]; instances: string[] }>();
    const results = new Map<string, InstanceApplyResult>();
    for (const [id, entries] of Object.entries(plan.instances)) {
      if (blocked.has(id)) {
        results.set(id, { instance: id, status: 'skipped', results: [], message: `not applied: ${blocked.get(id)}` });
        continue;
      }
      const chunks = chunkOperations(operationsFor(entries), options.generation);
      const key = chunks.join('\n');
      const batch = batches.get(key) ?? { chunks, instances: [] };
      batch.instances.push(id);
      batches.set(key, batch);
    }

    const attempt = options.attempt ?? randomUUID();
    const total = Object.keys(plan.instances).length;
    let failed = 0;
    let stopped: string | undefined;
    const progress = () => {
      const done = [...results.values()].filter((result) => result.status === 'applied').length;
      options.onProgress?.({ done, failed, running: total - results.size, total });
    };
    await this.pool([...batches.values()], async (batch) => {
      if (this.options.maxErrors !== undefined && failed > this.options.maxErrors) {
        stopped ??= `stopped after ${failed} failed instances (more than the error budget of ${this.options.maxErrors}): the rest were not started`;
        for (const id of batch.instances) results.set(id, { instance: id, status: 'skipped', results: [], message: 'not started: the error budget was spent' });
        progress();
        return;
      }
      const outcome = new Map<string, InstanceApplyResult>(batch.instances.map((id) => [id, { instance: id, status: 'applied', results: [] }]));
      let live = [...batch.instances].sort(compareStrings);
      for (const [index, ops] of batch.chunks.entries()) {
        if (live.length === 0) break;
        // The same attempt, revision, instances and operations: the same token, so a repeated call
        // reads the first run instead of starting a second (see ApplyOptions.attempt).
        const token = clientToken(attempt, plan.revision, String(options.generation), live.join(','), String(index), ops);
        const chunk = `${index + 1}/${batch.chunks.length}`;
        const journal: InvocationJournal | undefined = options.journal && {
          starting: (invocation) => options.journal!.starting({ ...invocation, chunk }),
          started: (invocation) => options.journal!.started(invocation),
        };
        const runs = await this.runAgent(live, { mode: 'apply', ops, clientToken: token, ...(journal ? { journal } : {}) });
        for (const run of runs) {
          const result = outcome.get(run.instance)!;
          if (run.exitCode !== undefined) result.exitCode = run.exitCode;
          if (run.durationMs !== undefined) result.durationMs = (result.durationMs ?? 0) + run.durationMs;
          const output = parseApplyOutput(run.output);
          result.results.push(...output.results);
          const reason = output.refused ?? (run.status === 'Success' || (run.exitCode === 1 && output.summary) ? undefined : describeRun(run)) ?? output.errors[0];
          if (reason || output.results.some((entry) => entry.status === 'failed')) {
            result.status = 'failed';
            if (reason) result.message = reason;
          }
          if (output.refused || (run.status !== 'Success' && !(run.exitCode === 1 && output.summary))) live = live.filter((id) => id !== run.instance);
        }
      }
      for (const result of outcome.values()) {
        if (result.status === 'failed') failed++;
        results.set(result.instance, result);
      }
      progress();
    });
    return {
      instances: [...results.values()].sort((a, b) => compareStrings(a.instance, b.instance)),
      ...(stopped ? { stopped } : {}),
    };
  }

  /** Runs the agent (through the stub) on the instances; installs the agent where it is missing, once. */
  private async runAgent(ids: readonly string[], call: AgentCall): Promise<InstanceRun[]> {
    const runs = await this.runStub(ids, call);
    const missing = runs.filter((run) => run.exitCode === AGENT_MISSING_EXIT_CODE && run.output.includes('"agent-missing"')).map((run) => run.instance);
    if (missing.length === 0) return runs;
    // Compressed: the agent is larger than SendFile's 32 KB; the stub unpacks it.
    await this.assistant.sendFile({
      instances: missing,
      targetDir: AGENT_INSTALL_PATH.replace(/\/[^/]+$/, ''),
      name: `${AGENT_INSTALL_PATH.replace(/^.*\//, '')}.gz`,
      content: gzipSync(AGENT_SCRIPT),
      mode: '0600',
    });
    // A token of its own: the same one would hand back the run that found the agent missing.
    const retry = { ...call, ...(call.clientToken ? { clientToken: clientToken(call.clientToken, 'after-install') } : {}) };
    const again = new Map((await this.runStub(missing, retry)).map((run) => [run.instance, run]));
    return runs.map((run) => again.get(run.instance) ?? run);
  }

  private async runStub(ids: readonly string[], call: AgentCall): Promise<InstanceRun[]> {
    const parameters = agentParameters(call.mode, { ...(call.ops !== undefined ? { ops: call.ops } : {}), ...(call.page !== undefined ? { page: call.page } : {}) });
    const request = {
      instances: ids,
      parameters,
      timeoutSeconds: this.options.timeoutSeconds ?? 600,
      ...(call.clientToken ? { clientToken: call.clientToken } : {}),
      ...(call.journal ? { journal: call.journal } : {}),
    };
    if (this.options.agentInline) return this.assistant.run({ ...request, content: agentStub(), name: this.inlineCommandName() });
    return this.assistant.invoke({ ...request, commandId: await this.agentCommand() });
  }

  invocationCompleted(invokeId: string): void {
    this.assistant.invocationCompleted(invokeId);
  }

  async quiesce(timeoutMs = 15 * 60_000): Promise<number> {
    const name = this.options.agentInline ? this.inlineCommandName() : (this.options.commandName ?? AGENT_COMMAND_NAME);
    const unfinished = await this.assistant.unfinishedInvocations(name);
    if (unfinished.length === 0) return 0;
    const still = await this.assistant.waitForInvocations(unfinished, timeoutMs);
    if (still.length > 0) throw new RollcallError('cloud-api', `earlier runs of the agent are still going after ${Math.round(timeoutMs / 1000)} s (${still.join(', ')}): stop them (StopInvocation) or wait, then start rollcall again`);
    return unfinished.length;
  }

  /** Inline runs are named, so that a restarted rollcall finds the ones still running. */
  private inlineCommandName(): string {
    return `${this.options.commandName ?? AGENT_COMMAND_NAME}-inline`;
  }

  /** The registered agent command, checked once: content that is not this rollcall's stub is refused. */
  private agentCommand(): Promise<string> {
    this.commandId ??= this.assistant.findCommand(this.options.commandName ?? AGENT_COMMAND_NAME).then((command) => {
      const name = this.options.commandName ?? AGENT_COMMAND_NAME;
      if (!command) throw new RollcallError('invalid-input', `no Cloud Assistant command named ${name} in this region: deploy the stack (npx cdktf deploy), or pass --agent-inline`);
      if (command.content !== agentStub()) {
        throw new RollcallError('invalid-input', `the registered command ${name} (${command.commandId}) is not the agent this rollcall ships: redeploy the stack (npx cdktf deploy), or pass --agent-inline`);
      }
      return command.commandId;
    });
    return this.commandId as Promise<string>;
  }

  /** Runs `work` over `items` with at most `concurrency` at once. */
  private async pool<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await work(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 4, items.length) }, worker));
  }
}

function failure(run: InstanceRun): InstanceFailure {
  return {
    instance: run.instance,
    message: describeRun(run) ?? 'failed',
    status: run.status,
    ...(run.errorCode ? { errorCode: run.errorCode } : {}),
  };
}
