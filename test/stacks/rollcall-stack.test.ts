import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EcsCommand } from '../../stacks/.gen/providers/alicloud/ecs-command/index.js';
import { EventBridgeEventBus } from '../../stacks/.gen/providers/alicloud/event-bridge-event-bus/index.js';
import { EventBridgeEventSourceV2 } from '../../stacks/.gen/providers/alicloud/event-bridge-event-source-v2/index.js';
import { EventBridgeRule } from '../../stacks/.gen/providers/alicloud/event-bridge-rule/index.js';
import { EventBridgeServiceLinkedRole } from '../../stacks/.gen/providers/alicloud/event-bridge-service-linked-role/index.js';
import { RamPolicy } from '../../stacks/.gen/providers/alicloud/ram-policy/index.js';
import { RamRole } from '../../stacks/.gen/providers/alicloud/ram-role/index.js';
import { RamRolePolicyAttachment } from '../../stacks/.gen/providers/alicloud/ram-role-policy-attachment/index.js';
import { ECS_ACTIONS, SECRET_VARIABLE } from '../../stacks/rollcall-stack.js';
import { agentStub } from '../../src/agent/agent-script.js';
import { RollcallError } from '../../src/config/errors.js';
import './cdktf-matchers.js';
import { FULL_CONFIG, MINIMAL_CONFIG, synthStack, terraformText, type TerraformDocument } from './stack-fixtures.js';

const INGRESS = 'https://rollcall.example.com/ingress/eventbridge';
const rules = (document: TerraformDocument) => document.resource['alicloud_event_bridge_rule']!;
const targetsOf = (document: TerraformDocument, rule: string) => rules(document)[rule]!['targets'] as { target_id: string; param_list: { resource_key: string; form: string; value?: string; template?: string }[] }[];
const param = (target: { param_list: { resource_key: string; value?: string; template?: string }[] }, key: string) => target.param_list.find((entry) => entry.resource_key === key);
const policyOf = (document: TerraformDocument) =>
  JSON.parse(document.resource['alicloud_ram_policy']!['policy']!['policy_document'] as string) as { Version: string; Statement: { Effect: string; Action: string[]; Resource: string[]; Condition?: unknown }[] };

describe('RollcallStack: resources', () => {
  const { json, document } = synthStack(FULL_CONFIG);

  it('declares the alicloud provider in the region, pinned to the bindings’ version', () => {
    expect(document.provider?.['alicloud']).toEqual([{ region: 'cn-shanghai' }]);
    expect((document as unknown as { terraform: { required_providers: unknown } }).terraform.required_providers).toEqual({ alicloud: { source: 'aliyun/alicloud', version: '1.289.0' } });
  });

  it('makes the custom bus and one HTTPS event source per platform, named as the rule filters', () => {
    expect(json).toHaveResourceWithProperties(EventBridgeEventBus, { event_bus_name: 'rollcall-prod' });
    for (const source of ['dingtalk.approval', 'lark.approval']) {
      expect(json).toHaveResourceWithProperties(EventBridgeEventSourceV2, {
        event_bus_name: '${alicloud_event_bridge_event_bus.bus.event_bus_name}',
        event_source_name: source,
        source_http_event_parameters: { type: 'HTTPS', method: ['POST'], security_config: 'none' },
      });
    }
    expect(document.output?.['dingtalk_webhook_url']?.value).toBe('${alicloud_event_bridge_event_source_v2.dingtalk-approvals.source_http_event_parameters[0].public_web_hook_url}');
  });

  it('routes approvals by source only to the ingress, with the secret header, a day of retries and the dead-letter queue', () => {
    expect(json).toHaveResourceWithProperties(EventBridgeRule, {
      rule_name: 'approvals',
      event_bus_name: '${alicloud_event_bridge_event_bus.bus.event_bus_name}',
      filter_pattern: JSON.stringify({ source: ['dingtalk.approval', 'lark.approval'] }),
      targets: [
        {
          target_id: 'rollcall-ingress',
          type: 'https',
          endpoint: INGRESS,
          push_retry_strategy: 'EXPONENTIAL_DECAY_RETRY',
          dead_letter_queue: { arn: 'acs:mns:cn-shanghai:1234567890:/queues/rollcall-dlq' },
          param_list: [
            { resource_key: 'url', form: 'CONSTANT', value: INGRESS },
            { resource_key: 'Network', form: 'CONSTANT', value: 'PublicNetwork' },
            { resource_key: 'Method', form: 'CONSTANT', value: 'POST' },
            { resource_key: 'HeaderParameters', form: 'CONSTANT', value: JSON.stringify({ 'X-Rollcall-Secret': FULL_CONFIG.ingressSecret }) },
            { resource_key: 'Body', form: 'ORIGINAL' },
          ],
        },
      ],
    });
  });

  it('routes rollcall’s finished Cloud Assistant runs (system bus) to the ingress, and a short notice to each group', () => {
    expect(json).toHaveResourceWithProperties(EventBridgeRule, {
      rule_name: 'cloud-assistant-results',
      event_bus_name: 'default',
      filter_pattern: JSON.stringify({ source: ['acs.ecs'], type: ['ecs:CloudAssistant:TaskCompleted'], data: { commandName: [{ prefix: 'rollcall-' }] } }),
    });
    const [ingress, dingtalk, lark, ...more] = targetsOf(document, 'cloud-assistant-results');
    expect(more).toEqual([]);
    expect(ingress).toMatchObject({ target_id: 'rollcall-ingress', type: 'https', endpoint: INGRESS, push_retry_strategy: 'BACKOFF_RETRY' });
    expect(param(ingress!, 'HeaderParameters')?.value).toBe(JSON.stringify({ 'X-Rollcall-Secret': FULL_CONFIG.ingressSecret }));

    expect(dingtalk).toMatchObject({ target_id: 'dingtalk-notice', type: 'acs.dingtalk', endpoint: FULL_CONFIG.completionNotice.dingtalk.webhook });
    expect(param(dingtalk!, 'URL')?.value).toBe(FULL_CONFIG.completionNotice.dingtalk.webhook);
    expect(param(dingtalk!, 'SecretKey')?.value).toBe('SECdingtalk');
    const dingtalkBody = param(dingtalk!, 'Body')!;
    expect(dingtalkBody).toMatchObject({ form: 'TEMPLATE' });
    expect(JSON.parse(dingtalkBody.value!)).toEqual({ command: '$.data.commandName', instance: '$.data.instanceId', status: '$.data.invocationStatus', exitCode: '$.data.exitCode' });
    // EventBridge's ${var} placeholders, escaped for Terraform (`$${`), then what EventBridge gets.
    expect(dingtalkBody.template).toContain('$${command}');
    expect(JSON.parse(terraformText(dingtalkBody.template!))).toEqual({ msgtype: 'text', text: { content: 'rollcall: ${command} on ${instance} ended ${status} (exit ${exitCode})' } });

    expect(lark).toMatchObject({ target_id: 'lark-notice', type: 'https', endpoint: FULL_CONFIG.completionNotice.lark.webhook });
    expect(param(lark!, 'url')?.value).toBe(FULL_CONFIG.completionNotice.lark.webhook);
    const larkBody = param(lark!, 'Body')!;
    expect(larkBody).toMatchObject({ form: 'TEMPLATE' });
    expect(JSON.parse(terraformText(larkBody.template!))).toEqual({ msg_type: 'text', content: { text: 'rollcall: ${command} on ${instance} ended ${status} (exit ${exitCode})' } });
  });

  it('routes first heartbeats of new instances to the ingress', () => {
    expect(json).toHaveResourceWithProperties(EventBridgeRule, {
      rule_name: 'new-instances',
      event_bus_name: 'default',
      filter_pattern: JSON.stringify({ source: ['acs.ecs'], type: ['ecs:CloudAssistant:FirstHeartbeat'] }),
    });
    expect(targetsOf(document, 'new-instances').map((target) => target.target_id)).toEqual(['rollcall-ingress']);
  });

  it('registers rollcall-agent as the stub of the shipped agent, base64, with parameters and the timeout', () => {
    expect(json).toHaveResourceWithProperties(EcsCommand, { name: 'rollcall-agent', type: 'RunShellScript', enable_parameter: true, timeout: 900 });
    const content = Buffer.from(document.resource['alicloud_ecs_command']!['agent']!['command_content'] as string, 'base64').toString('utf8');
    // Independently of agent-script.ts: the stub pins the sha256 of the agent file as shipped.
    const shipped = readFileSync(new URL('../../src/agent/rollcall-agent.sh', import.meta.url));
    const sha256 = createHash('sha256').update(shipped).digest('hex');
    expect(content).toMatch(new RegExp(`^#!/bin/sh\\n[^]*\\nwant=${sha256}\\n[^]*exec sh "\\$a" '\\{\\{mode\\}\\}' '\\{\\{ops\\}\\}' '\\{\\{page\\}\\}'\\n$`));
    expect(content).toBe(agentStub());
  });

  it('gives rollcall a RAM role with a least-privilege policy, attached', () => {
    expect(json).toHaveResourceWithProperties(RamRole, { role_name: 'rollcall' });
    expect(JSON.parse(document.resource['alicloud_ram_role']!['role']!['assume_role_policy_document'] as string)).toEqual({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ecs.aliyuncs.com'] } }],
    });
    expect(json).toHaveResourceWithProperties(RamPolicy, { policy_name: 'rollcall' });
    expect(json).toHaveResourceWithProperties(RamRolePolicyAttachment, { role_name: '${alicloud_ram_role.role.role_name}', policy_name: '${alicloud_ram_policy.policy.policy_name}', policy_type: 'Custom' });

    const account = '${data.alicloud_account.account.id}';
    expect(policyOf(document)).toEqual({
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['ecs:InvokeCommand'], Resource: [`acs:ecs:cn-shanghai:${account}:command/\${alicloud_ecs_command.agent.id}`] },
        { Effect: 'Allow', Action: ['ecs:InvokeCommand', 'ecs:SendFile', 'ecs:RunCommand'], Resource: [`acs:ecs:cn-shanghai:${account}:instance/*`], Condition: { StringEquals: { 'acs:ResourceTag/rollcall': 'managed' } } },
        { Effect: 'Allow', Action: [...ECS_ACTIONS.describe], Resource: [`acs:ecs:cn-shanghai:${account}:*`] },
      ],
    });
  });

  it('has EventBridge’s service-linked role for the dead-letter queue (MNS)', () => {
    expect(json).toHaveResourceWithProperties(EventBridgeServiceLinkedRole, { product_name: 'AliyunServiceRoleForEventBridgeSendToMNS' });
  });
});

describe('RollcallStack: what the configuration changes', () => {
  const { json, document } = synthStack(MINIMAL_CONFIG);

  it('filters only on the configured platforms, and makes only their sources', () => {
    expect(JSON.parse(rules(document)['approvals']!['filter_pattern'] as string)).toEqual({ source: ['dingtalk.approval'] });
    expect(Object.keys(document.resource['alicloud_event_bridge_event_source_v2']!)).toEqual(['dingtalk-approvals']);
    const lark = synthStack({ ...MINIMAL_CONFIG, platforms: ['lark'] }).document;
    expect(JSON.parse(rules(lark)['approvals']!['filter_pattern'] as string)).toEqual({ source: ['lark.approval'] });
  });

  it('leaves RunCommand out unless inline mode is on, and tag conditions out without tags', () => {
    const statements = policyOf(document).Statement;
    expect(statements.flatMap((statement) => statement.Action)).not.toContain('ecs:RunCommand');
    expect(statements[1]).toEqual({ Effect: 'Allow', Action: ['ecs:InvokeCommand', 'ecs:SendFile'], Resource: ['acs:ecs:cn-hangzhou:${data.alicloud_account.account.id}:instance/*'] });
    // Every resource is in the region.
    for (const resource of statements.flatMap((statement) => statement.Resource)) expect(resource).toMatch(/^acs:ecs:cn-hangzhou:/);
  });

  it('has no notice targets, dead-letter queue or service-linked role unless configured; the default timeout', () => {
    expect(targetsOf(document, 'cloud-assistant-results').map((target) => target.target_id)).toEqual(['rollcall-ingress']);
    expect(targetsOf(document, 'approvals')[0]).not.toHaveProperty('dead_letter_queue');
    expect(document.resource).not.toHaveProperty('alicloud_event_bridge_service_linked_role');
    expect(json).toHaveResourceWithProperties(EcsCommand, { timeout: 600 });
    expect(json).toHaveResourceWithProperties(EventBridgeEventBus, { event_bus_name: 'rollcall' });
  });

  it('without a secret, the header takes a sensitive Terraform variable (checked so it cannot break the JSON)', () => {
    const variable = document.variable?.[SECRET_VARIABLE];
    expect(variable).toMatchObject({ type: 'string', sensitive: true });
    expect(JSON.stringify(variable)).toContain('regex(');
    expect(param(targetsOf(document, 'approvals')[0]!, 'HeaderParameters')?.value).toBe(`{"X-Rollcall-Secret":"\${var.${SECRET_VARIABLE}}"}`);
    expect(synthStack(FULL_CONFIG).document.variable ?? {}).not.toHaveProperty(SECRET_VARIABLE);
  });

  it('takes http only on the loopback (the emulator), as an http target', () => {
    const local = synthStack({ ...MINIMAL_CONFIG, ingressUrl: 'http://127.0.0.1:8080' }).document;
    expect(targetsOf(local, 'approvals')[0]).toMatchObject({ type: 'http', endpoint: 'http://127.0.0.1:8080/ingress/eventbridge' });
    expect(() => synthStack({ ...MINIMAL_CONFIG, ingressUrl: 'http://rollcall.example.com' })).toThrow(/ingressUrl: must be https \(http only on 127\.0\.0\.1 or localhost\)/);
  });

  it('refuses a bad configuration with every problem named', () => {
    let caught: unknown;
    try {
      synthStack({ ...MINIMAL_CONFIG, region: 'Hangzhou', platforms: [], ingressSecret: 'short', instanceTags: { '': 'x' } } as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RollcallError);
    const message = (caught as RollcallError).message;
    expect(message).toContain('region: must be a region id like cn-hangzhou');
    expect(message).toContain('platforms: name at least one platform: dingtalk, lark');
    expect(message).toContain('ingressSecret: must be at least 16 characters');
    expect(message).toMatch(/instanceTags/);
    expect(() => synthStack({ ...MINIMAL_CONFIG, platform: ['dingtalk'] } as never)).toThrow(/unknown key platform \(the keys are region, /);
    expect(() => synthStack({ ...MINIMAL_CONFIG, commandTimeoutSeconds: 5 })).toThrow(/commandTimeoutSeconds: must be at least 10 seconds/);
  });
});

describe('the cdktf app (stacks/main.ts)', () => {
  it('is the command cdktf.json and npm run synth run', () => {
    const cdktf = JSON.parse(readFileSync('cdktf.json', 'utf8')) as { app: string; terraformProviders: string[]; codeMakerOutput: string };
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(cdktf.app).toBe('npx tsx stacks/main.ts');
    expect(pkg.scripts['synth']).toBe(cdktf.app);
    expect(cdktf).toMatchObject({ terraformProviders: ['aliyun/alicloud@1.289.0'], codeMakerOutput: 'stacks/.gen' });
    expect({ ...pkg.dependencies, ...pkg.devDependencies }).not.toHaveProperty('cdktf-cli');
  });

  it('synthesizes cdktf.out/stacks/rollcall/cdk.tf.json from a JSON file or from the environment, and explains a bad value', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'rollcall-cdktf-'));
    const configFile = path.join(outdir, 'stack.json');
    writeFileSync(configFile, JSON.stringify({ ...MINIMAL_CONFIG, region: 'cn-beijing' }));
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', 'stacks/main.ts'], { env: { ...process.env, CDKTF_OUTDIR: outdir, ...env }, encoding: 'utf8' });

    expect(run({ ROLLCALL_STACK_CONFIG: configFile }).status).toBe(0);
    const synthesized = () => JSON.parse(readFileSync(path.join(outdir, 'stacks', 'rollcall', 'cdk.tf.json'), 'utf8')) as TerraformDocument;
    expect(synthesized().output?.['region']?.value).toBe('cn-beijing');

    const fromEnv = run({ ROLLCALL_STACK_CONFIG: '', ROLLCALL_PUBLIC_URL: 'https://rollcall.example.org', ROLLCALL_REGION: 'cn-shenzhen', ROLLCALL_STACK_PLATFORMS: 'lark' });
    expect(fromEnv.status).toBe(0);
    expect(synthesized().output?.['region']?.value).toBe('cn-shenzhen');
    expect(readdirSync(path.join(outdir, 'stacks'))).toEqual(['rollcall']);

    const bad = run({ ROLLCALL_STACK_CONFIG: '', ROLLCALL_PUBLIC_URL: 'https://rollcall.example.org', ROLLCALL_STACK_PLATFORMS: 'wechat', ROLLCALL_STACK_INLINE: 'yes' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('ROLLCALL_STACK_INLINE must be 1, true, 0 or false');
    expect(bad.stderr).toContain('ROLLCALL_STACK_PLATFORMS: must be dingtalk or lark');
  });

  it('synthesizes the example (loopback ingress) when nothing is configured, and says so', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'rollcall-cdktf-'));
    const output = execFileSync(process.execPath, ['--import', 'tsx', 'stacks/main.ts'], { env: { ...process.env, CDKTF_OUTDIR: outdir, ROLLCALL_STACK_CONFIG: '', ROLLCALL_PUBLIC_URL: '' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(output).toBe('');
    const document = JSON.parse(readFileSync(path.join(outdir, 'stacks', 'rollcall', 'cdk.tf.json'), 'utf8')) as TerraformDocument;
    expect(targetsOf(document, 'approvals')[0]).toMatchObject({ endpoint: 'http://127.0.0.1:8080/ingress/eventbridge' });
  });
});
