import { expect } from 'vitest';
import { AGENT_INSTALL_PATH, AGENT_SCRIPT, agentParameters, agentStub } from '../../src/agent/agent-script.js';
import { chunkOperations, operationsFor } from '../../src/agent/encode-operations.js';
import { mergeInventoryPages, parseApplyOutput, parseInventoryPage, type ApplyOutput, type InventoryPage } from '../../src/agent/parse-agent-output.js';
import type { DesiredState } from '../../src/desired/types.js';
import { sandboxSupport, SandboxFleet, KERNEL_LACKS } from '../../src/emulators/ecs/sandbox/sandbox-fleet.js';
import { plan } from '../../src/plan/build-plan.js';
import type { ObservedInstance, ObservedState } from '../../src/plan/observed-state.js';
import type { Plan, PlanEntry } from '../../src/plan/types.js';

/** Cloud Assistant's output cap: an inventory page must stay under it. */
export const OUTPUT_CAP = 24 * 1024;

/**
 * Whether these tests can run here. They need root and Linux namespaces; they are skipped (with
 * the reason printed) only where the kernel lacks a feature, never for want of root: CI is root.
 */
export async function sandboxSkipReason(): Promise<string | undefined> {
  const support = await sandboxSupport();
  if (support.ok || !KERNEL_LACKS.has(support.lacking)) return undefined;
  console.warn(`skipping sandbox tests: ${support.reason}`);
  return support.reason;
}

/**
 * Drives the agent in sandbox instances the way the executor drives it through Cloud Assistant:
 * the agent installed at its path, the registered stub run with checked parameters, inventory page
 * by page, operations chunked under the size limit.
 */
export class AgentHarness {
  constructor(readonly fleet: SandboxFleet) {}

  /** A new fleet with these instances, the agent installed on each. */
  static async start(instances: readonly { id: string; tags: Record<string, string> }[]): Promise<AgentHarness> {
    const harness = new AgentHarness(await SandboxFleet.create());
    await Promise.all(instances.map((instance) => harness.fleet.createInstance(instance)));
    for (const { id } of instances) await harness.install(id);
    return harness;
  }

  async install(id: string): Promise<void> {
    const result = await this.fleet.exec(id, ['sh', '-c', `mkdir -p /var/lib/rollcall && cat >${AGENT_INSTALL_PATH} && chmod 700 ${AGENT_INSTALL_PATH}`], { input: AGENT_SCRIPT });
    expect(result.exitCode, result.stderr.toString()).toBe(0);
  }

  /** Runs the stub, as the registered command, with these parameters. */
  async run(id: string, mode: 'inventory' | 'apply', options: { ops?: string; page?: string; timeoutMs?: number } = {}) {
    return this.fleet.runScript(id, agentStub(), {
      parameters: agentParameters(mode, options),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  async inventoryPages(id: string): Promise<{ pages: InventoryPage[]; sizes: number[] }> {
    const pages: InventoryPage[] = [];
    const sizes: number[] = [];
    let page = '';
    do {
      const result = await this.run(id, 'inventory', { page });
      expect(result.exitCode, result.stderr.toString()).toBe(0);
      sizes.push(result.stdout.length);
      const parsed = parseInventoryPage(id, result.stdout.toString('utf8'));
      pages.push(parsed);
      page = parsed.nextPage ?? '';
    } while (page !== '');
    return { pages, sizes };
  }

  async inventory(id: string): Promise<ObservedInstance> {
    const instance = this.fleet.get(id);
    return mergeInventoryPages((await this.inventoryPages(id)).pages, instance?.tags ?? {});
  }

  async observe(): Promise<ObservedState> {
    const instances: Record<string, ObservedInstance> = {};
    for (const { id } of this.fleet.list()) instances[id] = await this.inventory(id);
    return { instances };
  }

  /** Applies one instance's entries in ordered chunks; the outputs joined. */
  async apply(id: string, entries: readonly PlanEntry[], generation: number): Promise<ApplyOutput & { exitCodes: (number | null)[] }> {
    return this.applyOperations(id, chunkOperations(operationsFor(entries), generation));
  }

  async applyOperations(id: string, chunks: readonly string[]): Promise<ApplyOutput & { exitCodes: (number | null)[] }> {
    const joined: ApplyOutput & { exitCodes: (number | null)[] } = { results: [], errors: [], exitCodes: [] };
    for (const ops of chunks) {
      const result = await this.run(id, 'apply', { ops });
      const output = parseApplyOutput(result.stdout.toString('utf8'));
      joined.results.push(...output.results);
      joined.errors.push(...output.errors);
      joined.exitCodes.push(result.exitCode);
      if (output.refused) joined.refused = output.refused;
    }
    return joined;
  }

  /** Plans against the fleet as it is, and applies the plan to every instance. */
  async converge(desired: DesiredState, today: Date, generation: number): Promise<{ plan: Plan; outputs: Record<string, Awaited<ReturnType<AgentHarness['apply']>>> }> {
    const planned = plan(desired, await this.observe(), desired.fleet.policy, today);
    const outputs: Record<string, Awaited<ReturnType<AgentHarness['apply']>>> = {};
    for (const [id, entries] of Object.entries(planned.instances)) outputs[id] = await this.apply(id, entries, generation);
    return { plan: planned, outputs };
  }

  async sh(id: string, script: string): Promise<string> {
    const result = await this.fleet.exec(id, ['sh', '-c', script]);
    expect(result.exitCode, `${script}\n${result.stderr.toString()}`).toBe(0);
    return result.stdout.toString('utf8');
  }
}

/** Every result of every instance, as `instance op name status`, for compact assertions. */
export function statuses(outputs: Record<string, { results: ApplyOutput['results'] }>): string[] {
  return Object.entries(outputs).flatMap(([id, output]) => output.results.map((result) => `${id} ${result.op} ${result.name} ${result.status}${result.error ? ` ${result.error}` : ''}`));
}
