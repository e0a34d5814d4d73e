import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import { clientFor, ecs, expectCode, sandboxKernelLacks, type EcsClient } from './ecs-test-client.js';

const kernelLacks = await sandboxKernelLacks();

describe.skipIf(kernelLacks)('ECS emulator: SendFile', () => {
  let emulator: EcsEmulator;
  let client: EcsClient;
  let regionId: string;
  const ids = ['i-file1', 'i-file2'];

  beforeAll(async () => {
    emulator = await startEcsEmulator({ instances: ids.map((id) => ({ id })), installAgent: false, preloadAgentCommand: false });
    client = clientFor(emulator);
    regionId = emulator.regionId;
  });
  afterAll(async () => emulator?.close());

  function sendFile(request: Partial<ecs.SendFileRequest>) {
    return client.sendFile(new ecs.SendFileRequest({ regionId, instanceId: ids, name: 'note.txt', targetDir: '/var/lib/sendfile-test', content: 'hello\n', ...request }));
  }

  /** Polls DescribeSendFileResults until the send is no longer Pending or Running. */
  async function sendResult(invokeId: string): Promise<ecs.DescribeSendFileResultsResponseBodyInvocationsInvocation> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await client.describeSendFileResults(new ecs.DescribeSendFileResultsRequest({ regionId, invokeId }));
      const invocation = response.body?.invocations?.invocation?.[0];
      if (invocation !== undefined && !['Pending', 'Running'].includes(invocation.invocationStatus ?? '')) return invocation;
      if (Date.now() > deadline) throw new Error(`send ${invokeId} did not finish`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function sh(id: string, script: string): Promise<string> {
    const result = await emulator.fleet.exec(id, ['sh', '-c', script]);
    expect(result.exitCode, result.stderr.toString()).toBe(0);
    return result.stdout.toString();
  }

  it('writes the file on every instance with the requested mode, owner and group, creating the directory', async () => {
    const response = await sendFile({ fileMode: '0750', fileOwner: 'root', fileGroup: 'daemon' });
    expect(response.body?.invokeId).toMatch(/^f-/);
    const result = await sendResult(response.body!.invokeId!);
    expect(result).toMatchObject({ invocationStatus: 'Success', name: 'note.txt', targetDir: '/var/lib/sendfile-test', fileMode: '0750', vmCount: 2 });
    expect(result.invokeInstances?.invokeInstance?.map((instance) => [instance.instanceId, instance.invocationStatus])).toEqual([
      ['i-file1', 'Success'],
      ['i-file2', 'Success'],
    ]);
    for (const id of ids) expect(await sh(id, 'stat -c "%a %U %G" /var/lib/sendfile-test/note.txt; cat /var/lib/sendfile-test/note.txt')).toBe('750 root daemon\nhello\n');
  });

  it('decodes Base64 content, keeps an existing file unless Overwrite=true (FileAlreadyExists)', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10]);
    const first = await sendResult((await sendFile({ name: 'blob.bin', content: bytes.toString('base64'), contentType: 'Base64', instanceId: ['i-file1'] })).body!.invokeId!);
    expect(first.invocationStatus).toBe('Success');
    const kept = await sendResult((await sendFile({ name: 'blob.bin', content: 'other', instanceId: ['i-file1'] })).body!.invokeId!);
    expect(kept.invocationStatus).toBe('Failed');
    expect(kept.invokeInstances?.invokeInstance?.[0]).toMatchObject({ invocationStatus: 'Failed', errorCode: 'FileAlreadyExists' });
    expect(await sh('i-file1', 'od -An -tu1 /var/lib/sendfile-test/blob.bin | tr -s " "')).toBe(' 0 1 2 255 10\n');
    const replaced = await sendResult((await sendFile({ name: 'blob.bin', content: 'other', overwrite: true, instanceId: ['i-file1'] })).body!.invokeId!);
    expect(replaced.invocationStatus).toBe('Success');
    expect(await sh('i-file1', 'cat /var/lib/sendfile-test/blob.bin')).toBe('other');
  });

  it('fails an instance whose file owner does not exist (UserNotExists)', async () => {
    const result = await sendResult((await sendFile({ name: 'owned', fileOwner: 'nosuchuser', instanceId: ['i-file2'] })).body!.invokeId!);
    expect(result.invokeInstances?.invokeInstance?.[0]).toMatchObject({ invocationStatus: 'Failed', errorCode: 'UserNotExists' });
  });

  it('refuses content over 32 KB base64-encoded and malformed requests with the documented codes', async () => {
    // 24,576 bytes encode to exactly 32 KB: the largest allowed.
    expect((await sendFile({ name: 'largest', content: 'x'.repeat(24_576), instanceId: ['i-file1'] })).body?.invokeId).toMatch(/^f-/);
    const error = await expectCode(sendFile({ name: 'too-large', content: 'x'.repeat(24_577) }), 'FileSize.ExceedLimit');
    expect(error.statusCode).toBe(403);
    await expectCode(sendFile({ targetDir: 'relative' }), 'FileTargetDir.Invalid');
    await expectCode(sendFile({ fileMode: 'rwxr-x---' }), 'FileMode.Invalid');
    await expectCode(sendFile({ contentType: 'Gzip' }), 'FileContentType.Invalid');
    await expectCode(sendFile({ content: '***', contentType: 'Base64' }), 'FileContent.DecodeError');
    await expectCode(sendFile({ fileOwner: '-rf' }), 'InvalidParameter.FileOwner');
    await expectCode(sendFile({ instanceId: Array.from({ length: 51 }, (_, n) => `i-${n}`) }), 'InstanceIds.ExceedLimit');
    await expectCode(sendFile({ instanceId: ['i-nope'] }), 'InvalidInstance.NotFound');
  });

  it('keeps file sends out of the command invocations', async () => {
    const invokeId = (await sendFile({ name: 'separate', instanceId: ['i-file1'] })).body!.invokeId!;
    await sendResult(invokeId);
    const results = await client.describeInvocationResults(new ecs.DescribeInvocationResultsRequest({ regionId, invokeId }));
    expect(results.body?.invocation?.invocationResults?.invocationResult).toEqual([]);
    await expectCode(client.stopInvocation(new ecs.StopInvocationRequest({ regionId, invokeId })), 'InvalidInvokeId.NotFound');
  });
});
