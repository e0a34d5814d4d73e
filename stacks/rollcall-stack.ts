import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AGENT_COMMAND_NAME, agentStub } from '../src/agent/agent-script.js';
import { CLOUD_EVENT_SOURCES, FIRST_HEARTBEAT, TASK_COMPLETED } from '../src/ingress/eventbridge/cloud-events.js';
import { DataAlicloudAccount } from './.gen/providers/alicloud/data-alicloud-account/index.js';
import { EcsCommand } from './.gen/providers/alicloud/ecs-command/index.js';
import { EventBridgeEventBus } from './.gen/providers/alicloud/event-bridge-event-bus/index.js';
import { EventBridgeEventSourceV2 } from './.gen/providers/alicloud/event-bridge-event-source-v2/index.js';
import { EventBridgeRule, type EventBridgeRuleTargets } from './.gen/providers/alicloud/event-bridge-rule/index.js';
import { EventBridgeServiceLinkedRole } from './.gen/providers/alicloud/event-bridge-service-linked-role/index.js';
import { AlicloudProvider } from './.gen/providers/alicloud/provider/index.js';
import { RamPolicy } from './.gen/providers/alicloud/ram-policy/index.js';
import { RamRole } from './.gen/providers/alicloud/ram-role/index.js';
import { RamRolePolicyAttachment } from './.gen/providers/alicloud/ram-role-policy-attachment/index.js';
import { parseStackConfig, type RollcallStackConfig, type RollcallStackConfigInput } from './stack-config.js';

/** The path of rollcall's EventBridge ingress (a daemon route). */
export const INGRESS_PATH = '/ingress/eventbridge';
/** The header that carries the shared secret (checked by `checkEventBridgeSecret`). */
export const SECRET_HEADER = 'X-Rollcall-Secret';
/**
 * Cloud services publish their events (Cloud Assistant's `acs.ecs` among them) to the account's
 * system bus, `default`, never to a custom bus: the rules on them live there.
 */
export const SYSTEM_BUS = 'default';
/** Every Cloud Assistant command rollcall registers or runs is named with this prefix. */
export const COMMAND_PREFIX = 'rollcall-';
/** The Terraform variable that holds the ingress secret when the configuration has none. */
export const SECRET_VARIABLE = 'rollcall_eventbridge_secret';

/**
 * The ECS API actions rollcall calls (src/executors/cloud-assistant), by what they touch: the
 * policy allows these and nothing else (a test checks this list against the executor's calls).
 */
export const ECS_ACTIONS = {
  /** Run the registered agent command (resource: that command and the instances). */
  invoke: 'ecs:InvokeCommand',
  /** Install the agent on an instance (resource: the instances). */
  sendFile: 'ecs:SendFile',
  /** Inline mode only: run the stub without a registered command (resource: the instances). */
  run: 'ecs:RunCommand',
  /** Reads, which the API authorizes per region, not per resource. */
  describe: ['ecs:DescribeCommands', 'ecs:DescribeInvocations', 'ecs:DescribeInvocationResults', 'ecs:DescribeInstances', 'ecs:DescribeCloudAssistantStatus', 'ecs:DescribeSendFileResults'],
} as const;

/**
 * A literal string in Terraform JSON: Terraform reads `${…}` and `%{…}` in any string as template
 * syntax, so EventBridge's own `${var}` placeholders (and any such text in a value) are written
 * `$${…}` / `%%{…}`, which Terraform turns back into the literal text.
 */
export function terraformLiteral(text: string): string {
  // Replacement functions, not strings: in a replacement string `$$` means one `$`.
  return text.replaceAll('${', () => '$${').replaceAll('%{', () => '%%{');
}

/** An http(s) target's type: its URL's scheme (http only on the loopback, see stack-config.ts). */
function schemeOf(url: string): 'http' | 'https' {
  return new URL(url).protocol === 'https:' ? 'https' : 'http';
}

/** The event patterns of the rules, as objects (the rules hold them as JSON strings). */
export function eventPatterns(platforms: RollcallStackConfig['platforms']): { approvals: object; cloudAssistantResults: object; newInstances: object } {
  return {
    // Source only: the platforms' payloads differ, and rollcall verifies and filters them itself.
    approvals: { source: platforms.map((platform) => CLOUD_EVENT_SOURCES[platform]) },
    cloudAssistantResults: { source: [CLOUD_EVENT_SOURCES.ecs], type: [TASK_COMPLETED], data: { commandName: [{ prefix: COMMAND_PREFIX }] } },
    newInstances: { source: [CLOUD_EVENT_SOURCES.ecs], type: [FIRST_HEARTBEAT] },
  };
}

/** The short text both completion notices carry; `${…}` are EventBridge template variables. */
const NOTICE_TEXT = 'rollcall: ${command} on ${instance} ended ${status} (exit ${exitCode})';
/** The template variables of the notice, as JSONPaths into the TaskCompleted event. */
const NOTICE_VARIABLES = { command: '$.data.commandName', instance: '$.data.instanceId', status: '$.data.invocationStatus', exitCode: '$.data.exitCode' };

/**
 * The cloud plumbing rollcall needs, in one stack: the EventBridge bus, an HTTPS event source
 * per approval platform and the rules that route approvals, Cloud Assistant's results and new
 * instances to rollcall's ingress; the Cloud Assistant command `rollcall-agent`, built from
 * `src/agent/` when the stack is synthesized; and a RAM role for rollcall with a least-privilege
 * policy. The synthesized `cdk.tf.json` is plain Terraform JSON (terraform or tofu apply it).
 */
export class RollcallStack extends TerraformStack {
  readonly config: RollcallStackConfig;
  readonly bus: EventBridgeEventBus;
  readonly sources: Partial<Record<RollcallStackConfig['platforms'][number], EventBridgeEventSourceV2>> = {};
  readonly approvalsRule: EventBridgeRule;
  readonly resultsRule: EventBridgeRule;
  readonly newInstancesRule: EventBridgeRule;
  readonly agentCommand: EcsCommand;
  readonly role: RamRole;
  readonly policy: RamPolicy;

  constructor(scope: Construct, id: string, input: RollcallStackConfigInput) {
    super(scope, id);
    const config = parseStackConfig(input, `stack ${id}`);
    this.config = config;
    new AlicloudProvider(this, 'alicloud', { region: config.region });
    const account = new DataAlicloudAccount(this, 'account', {});

    // The ingress: where every rule delivers, with the secret header.
    const ingressEndpoint = `${config.ingressUrl}${INGRESS_PATH}`;
    const secretHeaders = config.ingressSecret !== undefined ? terraformLiteral(JSON.stringify({ [SECRET_HEADER]: config.ingressSecret })) : JSON.stringify({ [SECRET_HEADER]: this.secretVariable().stringValue });
    const ingressTarget = (retry: 'BACKOFF_RETRY' | 'EXPONENTIAL_DECAY_RETRY'): EventBridgeRuleTargets => ({
      targetId: 'rollcall-ingress',
      type: schemeOf(ingressEndpoint),
      endpoint: terraformLiteral(ingressEndpoint),
      pushRetryStrategy: retry,
      ...(config.deadLetterQueueArn !== undefined ? { deadLetterQueue: { arn: config.deadLetterQueueArn } } : {}),
      paramList: [
        { resourceKey: 'url', form: 'CONSTANT', value: terraformLiteral(ingressEndpoint) },
        { resourceKey: 'Network', form: 'CONSTANT', value: 'PublicNetwork' },
        { resourceKey: 'Method', form: 'CONSTANT', value: 'POST' },
        { resourceKey: 'HeaderParameters', form: 'CONSTANT', value: secretHeaders },
        { resourceKey: 'Body', form: 'ORIGINAL' },
      ],
    });
    const patterns = eventPatterns(config.platforms);

    // Approvals: the platforms post their webhooks to an HTTPS source on rollcall's own bus.
    this.bus = new EventBridgeEventBus(this, 'bus', { eventBusName: config.busName, description: 'rollcall: approval events from the chat platforms' });
    for (const platform of config.platforms) {
      // An HTTP source names the events it takes in after itself: the source is the rule's filter.
      this.sources[platform] = new EventBridgeEventSourceV2(this, `${platform}-approvals`, {
        eventBusName: this.bus.eventBusName,
        eventSourceName: CLOUD_EVENT_SOURCES[platform],
        description: `rollcall: ${platform} approval webhooks`,
        // Anyone may post (the platforms' addresses change); rollcall confirms every approval with the platform's API.
        sourceHttpEventParameters: { type: 'HTTPS', method: ['POST'], securityConfig: 'none' },
      });
      new TerraformOutput(this, `${platform}_webhook_url`, { value: this.sources[platform].sourceHttpEventParameters.publicWebHookUrl, description: `Where ${platform} posts approval events` });
    }
    this.approvalsRule = new EventBridgeRule(this, 'approvals', {
      eventBusName: this.bus.eventBusName,
      ruleName: 'approvals',
      description: 'rollcall: approval events to the ingress',
      filterPattern: terraformLiteral(JSON.stringify(patterns.approvals)),
      // An approval lost is an account not made: retry for a day.
      targets: [ingressTarget('EXPONENTIAL_DECAY_RETRY')],
    });

    // Cloud Assistant's events, on the system bus.
    const noticeTargets: EventBridgeRuleTargets[] = [];
    const dingtalk = config.completionNotice.dingtalk;
    if (dingtalk !== undefined) {
      noticeTargets.push({
        targetId: 'dingtalk-notice',
        type: 'acs.dingtalk',
        endpoint: terraformLiteral(dingtalk.webhook),
        pushRetryStrategy: 'BACKOFF_RETRY',
        paramList: [
          { resourceKey: 'URL', form: 'CONSTANT', value: terraformLiteral(dingtalk.webhook) },
          ...(dingtalk.secret !== undefined ? [{ resourceKey: 'SecretKey', form: 'CONSTANT', value: terraformLiteral(dingtalk.secret) }] : []),
          { resourceKey: 'Body', form: 'TEMPLATE', value: JSON.stringify(NOTICE_VARIABLES), template: terraformLiteral(JSON.stringify({ msgtype: 'text', text: { content: NOTICE_TEXT } })) },
        ],
      });
    }
    const lark = config.completionNotice.lark;
    if (lark !== undefined) {
      noticeTargets.push({
        targetId: 'lark-notice',
        type: schemeOf(lark.webhook),
        endpoint: terraformLiteral(lark.webhook),
        pushRetryStrategy: 'BACKOFF_RETRY',
        paramList: [
          { resourceKey: 'url', form: 'CONSTANT', value: terraformLiteral(lark.webhook) },
          { resourceKey: 'Network', form: 'CONSTANT', value: 'PublicNetwork' },
          { resourceKey: 'Method', form: 'CONSTANT', value: 'POST' },
          { resourceKey: 'Body', form: 'TEMPLATE', value: JSON.stringify(NOTICE_VARIABLES), template: terraformLiteral(JSON.stringify({ msg_type: 'text', content: { text: NOTICE_TEXT } })) },
        ],
      });
    }
    this.resultsRule = new EventBridgeRule(this, 'cloud-assistant-results', {
      eventBusName: SYSTEM_BUS,
      ruleName: 'cloud-assistant-results',
      description: 'rollcall: finished runs of its commands to the ingress (and the group)',
      filterPattern: terraformLiteral(JSON.stringify(patterns.cloudAssistantResults)),
      // A result only wakes rollcall's poll early: a short retry is enough.
      targets: [ingressTarget('BACKOFF_RETRY'), ...noticeTargets],
    });
    this.newInstancesRule = new EventBridgeRule(this, 'new-instances', {
      eventBusName: SYSTEM_BUS,
      ruleName: 'new-instances',
      description: "rollcall: a new instance's agent reported, converge it now",
      filterPattern: terraformLiteral(JSON.stringify(patterns.newInstances)),
      targets: [ingressTarget('BACKOFF_RETRY')],
    });
    if (config.deadLetterQueueArn !== undefined) {
      // Dead letters go to MNS, which EventBridge writes to through this service-linked role.
      new EventBridgeServiceLinkedRole(this, 'eventbridge-to-mns', { productName: 'AliyunServiceRoleForEventBridgeSendToMNS' });
    }

    // The agent, as the stub that pins the shipped agent's sha256 (src/agent/agent-script.ts).
    this.agentCommand = new EcsCommand(this, 'agent', {
      name: AGENT_COMMAND_NAME,
      type: 'RunShellScript',
      commandContent: Buffer.from(agentStub()).toString('base64'),
      enableParameter: true,
      timeout: config.commandTimeoutSeconds,
      description: "rollcall's agent: checks the installed agent's sha256 and runs it (parameters mode, ops, page)",
    });

    // RAM: what rollcall may do, and nothing more.
    this.role = new RamRole(this, 'role', {
      roleName: 'rollcall',
      description: 'rollcall: runs its agent through Cloud Assistant',
      assumeRolePolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ecs.aliyuncs.com'] } }] }),
    });
    const arn = (resource: string) => `acs:ecs:${config.region}:${account.id}:${resource}`;
    const tagCondition = config.instanceTags && Object.keys(config.instanceTags).length > 0
      ? { Condition: { StringEquals: Object.fromEntries(Object.entries(config.instanceTags).map(([key, value]) => [terraformLiteral(`acs:ResourceTag/${key}`), terraformLiteral(value)])) } }
      : {};
    const statements = [
      // InvokeCommand is authorized on the command and on each instance: only this command…
      { Effect: 'Allow', Action: [ECS_ACTIONS.invoke], Resource: [arn(`command/${this.agentCommand.id}`)] },
      // …on the region's (tagged) instances, where the agent is also installed.
      { Effect: 'Allow', Action: [ECS_ACTIONS.invoke, ECS_ACTIONS.sendFile, ...(config.inlineMode ? [ECS_ACTIONS.run] : [])], Resource: [arn('instance/*')], ...tagCondition },
      { Effect: 'Allow', Action: [...ECS_ACTIONS.describe], Resource: [arn('*')] },
    ];
    this.policy = new RamPolicy(this, 'policy', {
      policyName: 'rollcall',
      description: 'rollcall: the Cloud Assistant calls it makes, in one region',
      policyDocument: JSON.stringify({ Version: '1', Statement: statements }),
    });
    new RamRolePolicyAttachment(this, 'policy-attachment', { roleName: this.role.roleName, policyName: this.policy.policyName, policyType: 'Custom' });

    new TerraformOutput(this, 'region', { value: config.region, description: 'The region rollcall manages' });
    new TerraformOutput(this, 'role_arn', { value: this.role.arn, description: "rollcall's RAM role (attach it to the instance rollcall runs on)" });
    new TerraformOutput(this, 'agent_command_id', { value: this.agentCommand.id, description: 'The rollcall-agent Cloud Assistant command' });
  }

  /**
   * The ingress secret as a sensitive Terraform variable, given at apply time. It is put inside a
   * JSON string as it is, so its alphabet cannot break out of the quotes (the check runs at plan).
   */
  private secretVariable(): TerraformVariable {
    return new TerraformVariable(this, SECRET_VARIABLE, {
      type: 'string',
      sensitive: true,
      description: `The ${SECRET_HEADER} header EventBridge sends to rollcall (rollcall's ROLLCALL_EVENTBRIDGE_SECRET)`,
      validation: [{ condition: `\${can(regex("^[A-Za-z0-9._~+/=-]{16,}$", var.${SECRET_VARIABLE}))}`, errorMessage: `${SECRET_VARIABLE} must be at least 16 letters, digits or ._~+/=- (it goes into a JSON header value as it is)` }],
    });
  }
}
