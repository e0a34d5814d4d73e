import { createHash } from 'node:crypto';
import { OpenApiUtil } from '@alicloud/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import { clientFor, ecs, expectCode, sandboxKernelLacks } from './ecs-test-client.js';

const kernelLacks = await sandboxKernelLacks();

/** A request signed with the SDK's own ACS3 signing function, so tests can change it after signing. */
interface Crafted {
  query: Record<string, string>;
  headers: Record<string, string>;
}

function craft(emulator: EcsEmulator, action: string, parameters: Record<string, string>, options: { date?: string } = {}): Crafted {
  const query = { ...parameters };
  const headers: Record<string, string> = {
    host: emulator.endpoint,
    'x-acs-action': action,
    'x-acs-version': '2014-05-26',
    'x-acs-date': options.date ?? OpenApiUtil.getTimestamp(),
    'x-acs-signature-nonce': OpenApiUtil.getNonce(),
    'x-acs-content-sha256': createHash('sha256').update('').digest('hex'),
  };
  const request = { method: 'POST', pathname: '/', query, headers } as unknown as Parameters<typeof OpenApiUtil.getAuthorization>[0];
  headers['authorization'] = OpenApiUtil.getAuthorization(request, 'ACS3-HMAC-SHA256', headers['x-acs-content-sha256']!, emulator.accessKeyId, emulator.accessKeySecret);
  return { query, headers };
}

/** Sends a crafted request as the SDK would (fetch sets the same Host, from the URL). */
async function send(emulator: EcsEmulator, crafted: Crafted, body?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const { host: _host, ...headers } = crafted.headers;
  const query = new URLSearchParams(crafted.query).toString().replace(/\+/g, '%20');
  const response = await fetch(`http://${emulator.endpoint}/?${query}`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.skipIf(kernelLacks)('ECS emulator: signatures', () => {
  let emulator: EcsEmulator;

  beforeAll(async () => {
    emulator = await startEcsEmulator({
      instances: [{ tags: { app: 'web' } }],
      accessKeys: [
        { accessKeyId: 'LTAItestkey0000000001', accessKeySecret: 'secret-one' },
        { accessKeyId: 'LTAItestkey0000000002', accessKeySecret: 'secret-two' },
      ],
      installAgent: false,
    });
  });
  afterAll(async () => emulator?.close());

  const describeInstances = () => new ecs.DescribeInstancesRequest({ regionId: emulator.regionId });

  it('accepts the SDK with a correct AccessKey (ACS3-HMAC-SHA256), with either configured key', async () => {
    const response = await clientFor(emulator).describeInstances(describeInstances());
    expect(response.statusCode).toBe(200);
    expect(response.body?.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(response.body?.instances?.instance?.map((instance) => instance.instanceId)).toEqual(emulator.instances);
    const second = clientFor(emulator, { accessKeyId: 'LTAItestkey0000000002', accessKeySecret: 'secret-two' });
    expect((await second.describeInstances(describeInstances())).statusCode).toBe(200);
  });

  it('refuses a wrong secret with SignatureDoesNotMatch (HTTP 400)', async () => {
    const error = await expectCode(clientFor(emulator, { accessKeySecret: 'not-the-secret' }).describeInstances(describeInstances()), 'SignatureDoesNotMatch');
    expect(error.statusCode).toBe(400);
  });

  it('refuses an unknown AccessKey id with InvalidAccessKeyId.NotFound (HTTP 404)', async () => {
    const error = await expectCode(clientFor(emulator, { accessKeyId: 'LTAInobody' }).describeInstances(describeInstances()), 'InvalidAccessKeyId.NotFound');
    expect(error.statusCode).toBe(404);
  });

  it('accepts the v2 query signature (signatureAlgorithm v2: HMAC-SHA1) and refuses it with a wrong secret', async () => {
    const v2 = clientFor(emulator, { signatureAlgorithm: 'v2' });
    const response = await v2.describeInstances(describeInstances());
    expect(response.body?.totalCount).toBe(1);
    const run = await v2.runCommand(new ecs.RunCommandRequest({ regionId: emulator.regionId, type: 'RunShellScript', commandContent: "echo 'v2 with spaces, +plus & ampersand'", instanceId: emulator.instances }));
    expect(run.body?.invokeId).toMatch(/^t-/);
    await expectCode(clientFor(emulator, { signatureAlgorithm: 'v2', accessKeySecret: 'wrong' }).describeInstances(describeInstances()), 'SignatureDoesNotMatch');
  });

  it('accepts a request signed with the SDK signing function, and refuses it once a query value, a signed header or the body changes', async () => {
    const query = { RegionId: emulator.regionId, 'Tag.1.Key': 'app', 'Tag.1.Value': "web ~!*()'" };
    expect((await send(emulator, craft(emulator, 'DescribeInstances', query))).status).toBe(200);

    const tamperedQuery = craft(emulator, 'DescribeInstances', query);
    tamperedQuery.query['Tag.1.Value'] = 'db';
    const refused = await send(emulator, tamperedQuery);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ Code: 'SignatureDoesNotMatch' });
    expect(Object.keys(refused.body).sort()).toEqual(['Code', 'Message', 'RequestId']);

    const tamperedAction = craft(emulator, 'DescribeInstances', query);
    tamperedAction.headers['x-acs-action'] = 'RunCommand';
    expect((await send(emulator, tamperedAction)).body).toMatchObject({ Code: 'SignatureDoesNotMatch' });

    const withBody = craft(emulator, 'DescribeInstances', query);
    expect((await send(emulator, withBody, 'smuggled=1')).body).toMatchObject({ Code: 'SignatureDoesNotMatch' });
  });

  it('refuses a missing or garbled signature, and unsigned x-acs-* headers, with IncompleteSignature', async () => {
    const unsigned = craft(emulator, 'DescribeInstances', { RegionId: emulator.regionId });
    delete unsigned.headers['authorization'];
    expect(await send(emulator, unsigned)).toMatchObject({ status: 400, body: { Code: 'IncompleteSignature' } });

    const garbled = craft(emulator, 'DescribeInstances', { RegionId: emulator.regionId });
    garbled.headers['authorization'] = 'ACS3-HMAC-SHA256 Credential=LTAItestkey0000000001';
    expect((await send(emulator, garbled)).body).toMatchObject({ Code: 'IncompleteSignature' });

    const extraHeader = craft(emulator, 'DescribeInstances', { RegionId: emulator.regionId });
    extraHeader.headers['x-acs-extra'] = 'not signed';
    expect((await send(emulator, extraHeader)).body).toMatchObject({ Code: 'IncompleteSignature' });
  });

  it('refuses a replayed nonce and a stale timestamp', async () => {
    const once = craft(emulator, 'DescribeInstances', { RegionId: emulator.regionId });
    expect((await send(emulator, once)).status).toBe(200);
    expect((await send(emulator, once)).body).toMatchObject({ Code: 'SignatureNonceUsed' });

    const stale = craft(emulator, 'DescribeInstances', { RegionId: emulator.regionId }, { date: '2020-01-01T00:00:00Z' });
    expect((await send(emulator, stale)).body).toMatchObject({ Code: 'InvalidTimeStamp.Expired' });
  });

  it('answers unknown actions, missing and foreign regions with the documented codes', async () => {
    expect(await send(emulator, craft(emulator, 'RebootInstance', { RegionId: emulator.regionId }))).toMatchObject({ status: 404, body: { Code: 'InvalidAction.NotFound' } });
    await expectCode(clientFor(emulator).describeInstances(new ecs.DescribeInstancesRequest({})), 'MissingParameter.RegionId');
    const error = await expectCode(clientFor(emulator).describeInstances(new ecs.DescribeInstancesRequest({ regionId: 'cn-beijing' })), 'InvalidRegionId.NotFound');
    expect(error.statusCode).toBe(404);
  });
});
