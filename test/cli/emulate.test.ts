import * as EventBridgeNamespace from '@alicloud/eventbridge';
import type EventBridgeModule from '@alicloud/eventbridge';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { Ecs, createEcsClient } from '../../src/executors/cloud-assistant/create-ecs-client.js';
import { connectDingtalkStream } from '../../src/ingress/dingtalk/stream-connection.js';
import { sandboxSkipReason } from '../integration/agent-harness.js';
import { rollcallLikeStack, startReceiver } from '../emulators/eventbridge/bus-fixture.js';
import { runCli } from './run-cli.js';

// @alicloud/eventbridge is CommonJS: vitest's namespace holds its exports (native ESM: `default` does).
const fallback = (EventBridgeNamespace as { default?: unknown }).default;
const eventbridge = (typeof fallback === 'object' && fallback !== null ? fallback : EventBridgeNamespace) as unknown as typeof EventBridgeNamespace & { default: typeof EventBridgeModule.default };

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

  it('chat: prints the ROLLCALL_* variables of its apps; rollcall approve makes it push the approval over the Stream connection', async () => {
    const child = spawn(process.execPath, ['src/cli/bin.js', 'emulate', 'chat', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: { eventType: string; data: unknown }[] = [];
    let stream: { close(): Promise<void> } | undefined;
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const printed = JSON.parse(line) as { endpoint: string; url: string; paths: unknown; env: Record<string, string> };
      expect(printed.url).toBe(`http://${printed.endpoint}`);
      expect(printed.paths).toEqual({ dingtalk: 'stream', lark: 'long-connection' });
      expect(printed.env).toMatchObject({ ROLLCALL_DINGTALK_STREAM: 'true', ROLLCALL_DINGTALK_API: printed.url, ROLLCALL_LARK_LONG_CONNECTION: 'true', ROLLCALL_LARK_DOMAIN: printed.url });
      expect(printed.env.ROLLCALL_LARK_APP_ID).toMatch(/^cli_[0-9a-f]{16}$/);
      // What rollcall serve does with those variables.
      stream = await connectDingtalkStream({
        clientId: printed.env.ROLLCALL_DINGTALK_APP_KEY!,
        clientSecret: printed.env.ROLLCALL_DINGTALK_APP_SECRET!,
        apiBase: printed.env.ROLLCALL_DINGTALK_API!,
        log: createLogger({ ROLLCALL_LOG_LEVEL: 'silent' }),
        onEvent: (event) => (events.push(event), true),
      });
      const approved = await runCli(['approve', '--emulator', printed.url, '--platform', 'dingtalk', '--flow', 'onboard', '--field', 'empId=E8001', '--field', 'login=cliuser', '--field', '角色=devops']);
      expect(approved.stderr).toBe('');
      expect(approved.code).toBe(0);
      expect(approved.stdout).toMatch(/^dingtalk approval \S+ \(PROC-ONBOARD\) approved\n  stream: acknowledged\n$/);
      expect(events).toEqual([expect.objectContaining({ eventType: 'bpms_instance_change', data: expect.objectContaining({ processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree' }) })]);

      const unknownFlow = await runCli(['approve', '--emulator', printed.url, '--platform', 'lark', '--flow', 'offboard']);
      expect(unknownFlow.code).toBe(1);
      expect(unknownFlow.stderr).toContain('approvals.yaml has no lark offboard flow; its lark flows are 7C468A54-GRANT (grant), 9D2B11F0-REVOKE (revoke)');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
    } finally {
      await stream?.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 30_000);

  it('chat --dingtalk-via eventbridge: posts the signed callback to the bus\'s HTTPS source, which the approvals rule routes', async () => {
    const ingress = await startReceiver();
    const { startEventBridgeEmulator } = await import('../../src/emulators/eventbridge/eventbridge-emulator.js');
    const bus = await startEventBridgeEmulator({ rules: rollcallLikeStack(`${ingress.url}/ingress/eventbridge`), variables: { ingress_secret: 's' }, secondMs: 1 });
    const child = spawn(process.execPath, ['src/cli/bin.js', 'emulate', 'chat', '--port', '0', '--dingtalk-via', 'eventbridge', '--eventbridge', bus.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const printed = JSON.parse(line) as { url: string; paths: unknown; env: Record<string, string> };
      expect(printed.paths).toEqual({ dingtalk: 'eventbridge', lark: 'long-connection' });
      // rollcall verifies the callback itself, so it needs the same secrets as for HTTP callbacks.
      expect(printed.env).toHaveProperty('ROLLCALL_DINGTALK_AES_KEY');
      const approved = await runCli(['approve', '--emulator', printed.url, '--platform', 'dingtalk', '--flow', 'onboard', '--field', 'empId=E8002', '--field', 'login=bususer', '--field', '角色=devops']);
      expect(approved.stdout).toContain('eventbridge: acknowledged');
      await bus.flush();
      expect(bus.events()).toEqual([expect.objectContaining({ via: 'http-source', matchedRules: ['approvals'], event: expect.objectContaining({ source: 'dingtalk.approval', type: 'eventbridge:Events:HTTPEvent' }) })]);
      expect(ingress.received).toHaveLength(1);
      child.kill('SIGTERM');
      await once(child, 'exit');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await bus.close();
      await ingress.close();
    }
    expect((await runCli(['emulate', 'chat', '--dingtalk-via', 'eventbridge'])).stderr).toContain('pass --eventbridge http://HOST:PORT');
  }, 30_000);

  it('eventbridge: runs the rules of a cdk.tf.json with TF_VAR_ secrets, prints its endpoint, keys and webhooks, serves the SDK, stops on SIGTERM', async () => {
    const ingress = await startReceiver();
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-emulate-eb-'));
    // Where npm run synth writes it: found without --rules.
    await mkdir(join(dir, 'cdktf.out', 'stacks', 'rollcall'), { recursive: true });
    await writeFile(join(dir, 'cdktf.out', 'stacks', 'rollcall', 'cdk.tf.json'), JSON.stringify(rollcallLikeStack('https://rollcall.example.com/ingress/eventbridge')));
    const child = spawn(process.execPath, [join(process.cwd(), 'src/cli/bin.js'), 'emulate', 'eventbridge', '--port', '0', '--redirect', `https://rollcall.example.com=${ingress.url}`], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TF_VAR_ingress_secret: 'from-the-environment', ROLLCALL_LOG_LEVEL: 'info' },
    });
    let logs = '';
    child.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const printed = JSON.parse(line) as { endpoint: string; url: string; accessKeyId: string; accessKeySecret: string; regionId: string; buses: string[]; rules: string[]; sources: Record<string, string>; publishUrl: string };
      expect(printed.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(printed).toMatchObject({ url: `http://${printed.endpoint}`, regionId: 'cn-hangzhou', buses: ['default', 'rollcall'], rules: ['rollcall/approvals', 'default/cloud-assistant-results'], publishUrl: `http://${printed.endpoint}/emulator/publish` });
      expect(printed.sources['dingtalk.approval']).toMatch(/\/webhook\/putEvents\?token=/);

      const client = new eventbridge.default(new eventbridge.Config({ accessKeyId: printed.accessKeyId, accessKeySecret: printed.accessKeySecret, endpoint: printed.endpoint, protocol: 'http' }));
      const data = Buffer.from(JSON.stringify({ processInstanceId: 'pi-1', result: 'agree' }));
      const reply = await client.putEvents([new eventbridge.CloudEvent({ id: 'cli-1', source: 'dingtalk.approval', type: 'dingtalk:approval:bpms_instance_change', data, extensions: { aliyuneventbusname: 'rollcall' } })]);
      expect(reply.failedEntryCount).toBe(0);
      for (let waited = 0; ingress.received.length === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(ingress.received).toEqual([expect.objectContaining({ path: '/ingress/eventbridge', headers: expect.objectContaining({ 'x-rollcall-secret': 'from-the-environment' }) })]);
      const deliveries = (await (await fetch(`${printed.url}/emulator/deliveries`)).json()) as { deliveries: { eventId: string; ok: boolean }[] };
      expect(deliveries.deliveries).toEqual([expect.objectContaining({ eventId: 'cli-1', ok: true })]);

      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
      expect(logs).toContain('EventBridge emulator stopped');
      expect(logs).not.toContain('from-the-environment');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await ingress.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('eventbridge: says what is wrong with the rules file or the flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-emulate-eb-'));
    try {
      expect((await runCli(['emulate', 'eventbridge', '--rules', 'missing.json'], { cwd: dir })).stderr).toContain('cannot read the rules file');
      await writeFile(join(dir, 'cdk.tf.json'), JSON.stringify(rollcallLikeStack('https://rollcall.example.com/ingress/eventbridge')));
      const unset = await runCli(['emulate', 'eventbridge', '--rules', 'cdk.tf.json'], { cwd: dir });
      expect(unset.code).toBe(1);
      expect(unset.stderr).toContain('${var.ingress_secret} has no value: set TF_VAR_ingress_secret');
      expect((await runCli(['emulate', 'eventbridge', '--redirect', 'https://a.example.com'], { cwd: dir })).stderr).toContain('--redirect https://a.example.com: write it as FROM=TO');
      for (const stack of ['one', 'two']) {
        await mkdir(join(dir, 'cdktf.out', 'stacks', stack), { recursive: true });
        await writeFile(join(dir, 'cdktf.out', 'stacks', stack, 'cdk.tf.json'), '{}');
      }
      expect((await runCli(['emulate', 'eventbridge'], { cwd: dir })).stderr).toContain('cdktf.out/stacks has 2 stacks');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says which emulators there are, and what a chat emulator needs for HTTP callbacks', async () => {
    const run = await runCli(['emulate', 'eventbus']);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('no eventbus emulator: emulate ecs, chat or eventbridge');
    expect((await runCli(['emulate', 'ecs', '--tags', 'novalue'])).stderr).toContain('--tags novalue: write tags as key=value');
    expect((await runCli(['emulate', 'chat', '--dingtalk-via', 'http'])).stderr).toContain("HTTP callbacks need rollcall's address: pass --deliver-to");
    expect((await runCli(['emulate', 'chat', '--lark-via', 'carrier-pigeon'])).stderr).toContain('--lark-via carrier-pigeon: must be http or long-connection or eventbridge');
  });

  it('approve: says what is missing or wrong before reaching any emulator', async () => {
    expect((await runCli(['approve', '--platform', 'dingtalk', '--flow', 'onboard'])).stderr).toContain('--emulator: give the chat emulator URL');
    expect((await runCli(['approve', '--emulator', 'http://127.0.0.1:9', '--platform', 'wechat', '--flow', 'onboard'])).stderr).toContain('--platform wechat: must be dingtalk or lark');
    expect((await runCli(['approve', '--emulator', 'http://127.0.0.1:9', '--platform', 'dingtalk', '--flow', 'onboard', '--field', 'novalue'])).stderr).toContain('--field novalue: write fields as label=value');
    expect((await runCli(['approve', '--emulator', 'http://127.0.0.1:9', '--platform', 'dingtalk', '--flow', 'onboard', '--field', 'empId=E1'])).stderr).toContain('cannot reach the chat emulator at http://127.0.0.1:9');
  });
});
