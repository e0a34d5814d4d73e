import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import { clientFor, ecs, expectCode, sandboxKernelLacks, type EcsClient } from './ecs-test-client.js';

const kernelLacks = await sandboxKernelLacks();

/** 12 instances: 7 web (3 of them canary), 5 db. More than one default page of 10. */
const INSTANCES = Array.from({ length: 12 }, (_, n) => ({
  id: `i-desc${String(n + 1).padStart(2, '0')}`,
  tags: n < 7 ? { app: 'web', ...(n < 3 ? { track: 'canary' } : {}) } : { app: 'db' },
}));

describe.skipIf(kernelLacks)('ECS emulator: DescribeInstances and DescribeCloudAssistantStatus', () => {
  let emulator: EcsEmulator;
  let client: EcsClient;

  beforeAll(async () => {
    emulator = await startEcsEmulator({ instances: INSTANCES, installAgent: false, preloadAgentCommand: false });
    client = clientFor(emulator);
  });
  afterAll(async () => emulator?.close());

  async function describeInstances(request: Partial<ecs.DescribeInstancesRequest>) {
    const response = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: emulator.regionId, ...request }));
    return response.body!;
  }

  const ids = (body: ecs.DescribeInstancesResponseBody) => body.instances?.instance?.map((instance) => instance.instanceId) ?? [];

  it('lists running Linux instances with their tags and region', async () => {
    const body = await describeInstances({ instanceIds: JSON.stringify(['i-desc01']) });
    expect(body.instances?.instance).toEqual([
      expect.objectContaining({
        instanceId: 'i-desc01',
        instanceName: 'i-desc01',
        status: 'Running',
        OSType: 'linux',
        regionId: emulator.regionId,
        tags: expect.objectContaining({ tag: [expect.objectContaining({ tagKey: 'app', tagValue: 'web' }), expect.objectContaining({ tagKey: 'track', tagValue: 'canary' })] }),
      }),
    ]);
  });

  it('filters by Tag.N (every tag must match; a key alone matches any value)', async () => {
    expect(ids(await describeInstances({ tag: [new ecs.DescribeInstancesRequestTag({ key: 'app', value: 'web' })], maxResults: 100 }))).toEqual(INSTANCES.slice(0, 7).map((i) => i.id));
    const both = await describeInstances({ tag: [new ecs.DescribeInstancesRequestTag({ key: 'app', value: 'web' }), new ecs.DescribeInstancesRequestTag({ key: 'track', value: 'canary' })] });
    expect(ids(both)).toEqual(['i-desc01', 'i-desc02', 'i-desc03']);
    expect(ids(await describeInstances({ tag: [new ecs.DescribeInstancesRequestTag({ key: 'track' })] }))).toEqual(['i-desc01', 'i-desc02', 'i-desc03']);
    expect(ids(await describeInstances({ tag: [new ecs.DescribeInstancesRequestTag({ key: 'app', value: 'cache' })] }))).toEqual([]);
  });

  it('filters by InstanceIds (a JSON array), ignoring ids that do not exist', async () => {
    expect(ids(await describeInstances({ instanceIds: JSON.stringify(['i-desc12', 'i-desc08', 'i-gone']) }))).toEqual(['i-desc08', 'i-desc12']);
  });

  it('pages with MaxResults and NextToken (MaxResults under 10 counts as 10), and with PageNumber/PageSize', async () => {
    const first = await describeInstances({ maxResults: 1 });
    expect(ids(first)).toHaveLength(10);
    expect(first.totalCount).toBe(12);
    expect(first.nextToken).not.toBe('');
    const second = await describeInstances({ maxResults: 1, nextToken: first.nextToken });
    expect(ids(second)).toEqual(['i-desc11', 'i-desc12']);
    expect(second.nextToken).toBe('');
    expect(ids(await describeInstances({ pageSize: 5, pageNumber: 3 }))).toEqual(['i-desc11', 'i-desc12']);
    await expectCode(client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: emulator.regionId, nextToken: 'not-a-token' })), 'InvalidParameter');
  });

  it('refuses more than 100 InstanceIds, malformed InstanceIds and more than 20 tags', async () => {
    const many = JSON.stringify(Array.from({ length: 101 }, (_, n) => `i-x${n}`));
    const error = await expectCode(client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: emulator.regionId, instanceIds: many })), 'InvalidParameter.TooManyInstanceIds');
    expect(error.statusCode).toBe(403);
    await expectCode(client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: emulator.regionId, instanceIds: 'i-desc01,i-desc02' })), 'InvalidInstanceIds.Malformed');
    const tags = Array.from({ length: 21 }, (_, n) => new ecs.DescribeInstancesRequestTag({ key: `k${n}`, value: 'v' }));
    await expectCode(client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: emulator.regionId, tag: tags })), 'NumberExceed.Tags');
  });

  it('reports the Cloud Assistant agent as "true", and "false" for an instance whose agent is offline', async () => {
    emulator.faults.offline.add('i-desc02');
    try {
      const response = await client.describeCloudAssistantStatus(new ecs.DescribeCloudAssistantStatusRequest({ regionId: emulator.regionId, instanceId: ['i-desc01', 'i-desc02', 'i-nowhere'] }));
      const statuses = response.body?.instanceCloudAssistantStatusSet?.instanceCloudAssistantStatus?.map((status) => [status.instanceId, status.cloudAssistantStatus]);
      expect(statuses).toEqual([
        ['i-desc01', 'true'],
        ['i-desc02', 'false'],
      ]);
    } finally {
      emulator.faults.offline.delete('i-desc02');
    }
  });

  it('pages DescribeCloudAssistantStatus without InstanceId, and refuses more than 100 ids', async () => {
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const response = await client.describeCloudAssistantStatus(new ecs.DescribeCloudAssistantStatusRequest({ regionId: emulator.regionId, maxResults: 5, nextToken }));
      const page = response.body?.instanceCloudAssistantStatusSet?.instanceCloudAssistantStatus ?? [];
      expect(page.length).toBeLessThanOrEqual(5);
      seen.push(...page.map((status) => status.instanceId!));
      nextToken = response.body?.nextToken || undefined;
    } while (nextToken !== undefined);
    expect(seen).toEqual(INSTANCES.map((instance) => instance.id));
    const many = Array.from({ length: 101 }, (_, n) => `i-x${n}`);
    await expectCode(client.describeCloudAssistantStatus(new ecs.DescribeCloudAssistantStatusRequest({ regionId: emulator.regionId, instanceId: many })), 'InstanceIds.ExceedLimit');
  });
});
