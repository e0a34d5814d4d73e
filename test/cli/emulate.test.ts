import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { Ecs, createEcsClient } from '../../src/executors/cloud-assistant/create-ecs-client.js';
import { sandboxSkipReason } from '../integration/agent-harness.js';
import { runCli } from './run-cli.js';

const skip = await sandboxSkipReason();

describe('rollcall emulate', () => {
  it.skipIf(skip)('ecs: prints its endpoint and keys as one JSON line, serves the real SDK, and cleans up on SIGTERM', async () => {
    const child = spawn(process.execPath, ['src/cli/bin.js', 'emulate', 'ecs', '--port', '0', '--instances', '2', '--tags', 'app=web', '--tags', 'env=test'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const printed = JSON.parse(line) as { endpoint: string; accessKeyId: string; accessKeySecret: string; regionId: string; instances: string[] };
      expect(printed.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(printed.instances).toEqual(['i-local0001', 'i-local0002']);
      const client = createEcsClient({ regionId: printed.regionId, endpoint: printed.endpoint }, { ALIBABA_CLOUD_ACCESS_KEY_ID: printed.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: printed.accessKeySecret });
      const response = await client.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: printed.regionId, tag: [new Ecs.DescribeInstancesRequestTag({ key: 'env', value: 'test' })] }));
      expect(response.body?.instances?.instance?.map((instance) => instance.instanceId)).toEqual(printed.instances);
      const serving = logs.split('\n').filter(Boolean).map((entry) => JSON.parse(entry) as { msg: string; stateDir?: string }).find((entry) => entry.msg === 'ECS API emulator serving');
      expect(existsSync(serving!.stateDir!)).toBe(true);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
      expect(existsSync(serving!.stateDir!)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('says which emulators this version has', async () => {
    const run = await runCli(['emulate', 'chat']);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('the chat emulator is not part of this version yet; emulate ecs is');
    expect((await runCli(['emulate', 'ecs', '--tags', 'novalue'])).stderr).toContain('--tags novalue: write tags as key=value');
  });
});
