import EcsModule, * as ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { expect } from 'vitest';
import type { EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import { KERNEL_LACKS, sandboxSupport } from '../../../src/emulators/ecs/sandbox/sandbox-fleet.js';

export { ecs };

/**
 * The SDK's client class. It is the module's `default` export in CommonJS terms: native ESM sees it
 * as `default.default`, vitest's interop as `default` itself. Both are handled, so the tests hold
 * under either loader.
 */
type EcsClass = typeof EcsModule.default;
export const Ecs: EcsClass = (typeof EcsModule === 'function' ? EcsModule : EcsModule.default) as EcsClass;
export type EcsClient = InstanceType<EcsClass>;

/**
 * Whether these tests can run here: they need sandbox instances. Skipped (with the reason printed)
 * only when the kernel lacks a feature; not being root fails them, so CI (root) cannot pass by skipping.
 */
export async function sandboxKernelLacks(): Promise<boolean> {
  const support = await sandboxSupport();
  const lacks = !support.ok && KERNEL_LACKS.has(support.lacking);
  if (lacks) console.warn(`skipping ECS emulator tests: ${support.reason}`);
  return lacks;
}

/** A real SDK client pointed at the emulator; `overrides` change the Config (a wrong secret, v2 signatures…). */
export function clientFor(emulator: EcsEmulator, overrides: Partial<$OpenApiUtil.Config> = {}): EcsClient {
  return new Ecs(
    new $OpenApiUtil.Config({
      accessKeyId: emulator.accessKeyId,
      accessKeySecret: emulator.accessKeySecret,
      regionId: emulator.regionId,
      endpoint: emulator.endpoint,
      protocol: 'http',
      ...overrides,
    }),
  );
}

/** The error an SDK call fails with; fails the test when the call succeeds. */
export async function sdkError(call: Promise<unknown>): Promise<{ code: string; statusCode: number; message: string; data: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    return error as { code: string; statusCode: number; message: string; data: Record<string, unknown> };
  }
  throw new Error('the call succeeded, but an error was expected');
}

/** Asserts that an SDK call fails with this error code, and returns the error. */
export async function expectCode(call: Promise<unknown>, code: string): Promise<{ code: string; statusCode: number; message: string }> {
  const error = await sdkError(call);
  expect(error.code, error.message).toBe(code);
  return error;
}

type InvocationResult = ecs.DescribeInvocationResultsResponseBodyInvocationInvocationResultsInvocationResult;

/** Every result of an invocation, all pages. */
export async function invocationResults(client: EcsClient, regionId: string, invokeId: string): Promise<InvocationResult[]> {
  const results: InvocationResult[] = [];
  let nextToken: string | undefined;
  do {
    const response = await client.describeInvocationResults(new ecs.DescribeInvocationResultsRequest({ regionId, invokeId, maxResults: 50, nextToken }));
    const invocation = response.body?.invocation;
    results.push(...(invocation?.invocationResults?.invocationResult ?? []));
    nextToken = invocation?.nextToken || undefined;
  } while (nextToken !== undefined);
  return results;
}

const FINAL = new Set(['Success', 'Failed', 'Error', 'Timeout', 'Cancelled', 'Terminated', 'Invalid', 'Aborted']);

/** Polls DescribeInvocationResults until every instance's result is final (or `timeoutMs` passes). */
export async function waitForResults(client: EcsClient, regionId: string, invokeId: string, count: number, timeoutMs = 15_000): Promise<InvocationResult[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const results = await invocationResults(client, regionId, invokeId);
    if (results.length >= count && results.every((result) => FINAL.has(result.invocationStatus ?? ''))) return results;
    if (Date.now() > deadline) throw new Error(`invocation ${invokeId} did not finish in ${timeoutMs} ms: ${JSON.stringify(results.map((r) => [r.instanceId, r.invocationStatus]))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls DescribeInvocations until the invocation's overall status is `status`. */
export async function waitForInvocationStatus(client: EcsClient, regionId: string, invokeId: string, status: string, timeoutMs = 15_000): Promise<ecs.DescribeInvocationsResponseBodyInvocationsInvocation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await client.describeInvocations(new ecs.DescribeInvocationsRequest({ regionId, invokeId, includeOutput: true }));
    const invocation = response.body?.invocations?.invocation?.[0];
    if (invocation?.invocationStatus === status) return invocation;
    if (Date.now() > deadline) throw new Error(`invocation ${invokeId} is ${invocation?.invocationStatus}, not ${status}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Base64 output → text. */
export function decodeOutput(output: string | undefined): string {
  return Buffer.from(output ?? '', 'base64').toString('utf8');
}
