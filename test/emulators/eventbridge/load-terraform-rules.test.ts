import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { loadTerraformRules, readTerraformRules } from '../../../src/emulators/eventbridge/load-terraform-rules.js';
import { resolveTerraformString, UnresolvedReference, type TerraformScope } from '../../../src/emulators/eventbridge/terraform-references.js';
import { httpTarget, rollcallLikeStack } from './bus-fixture.js';

const INGRESS = 'https://rollcall.example.com/ingress/eventbridge';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RollcallError);
    return (error as RollcallError).problems.map((problem) => problem.message);
  }
  throw new Error('expected the rules to be refused');
}

describe('Terraform references', () => {
  const scope: TerraformScope = {
    document: {
      variable: { secret: { type: 'string' }, region: { default: 'cn-shanghai' } },
      locals: { prefix: 'rollcall-' },
      resource: { alicloud_event_bridge_event_bus: { bus: { event_bus_name: '${local.prefix}bus' } } },
    },
    variables: {},
    env: { TF_VAR_secret: 'from-env' },
  };

  it('resolves resource attributes (ids too), variables (given, TF_VAR_, default) and locals, whole or inside text', () => {
    expect(resolveTerraformString('${alicloud_event_bridge_event_bus.bus.event_bus_name}', scope)).toBe('rollcall-bus');
    expect(resolveTerraformString('${alicloud_event_bridge_event_bus.bus.id}', scope)).toBe('rollcall-bus');
    expect(resolveTerraformString('{"X-Rollcall-Secret":"${var.secret}"}', scope)).toBe('{"X-Rollcall-Secret":"from-env"}');
    expect(resolveTerraformString('${var.secret}', { ...scope, variables: { secret: 'given' } })).toBe('given');
    expect(resolveTerraformString('${var.region}', scope)).toBe('cn-shanghai');
    // `$${` is Terraform's escape of a literal `${`: EventBridge template placeholders come through.
    expect(resolveTerraformString('rollcall: $${command} on ${var.region}', scope)).toBe('rollcall: ${command} on cn-shanghai');
    expect(resolveTerraformString('100%%{x}', scope)).toBe('100%{x}');
    // cdktf's Fn.jsonencode of an object of text and references: the header parameters.
    expect(resolveTerraformString('${jsonencode({"X-Rollcall-Secret" = var.secret, "X-Bus" = "b\\"1"})}', scope)).toBe('{"X-Rollcall-Secret":"from-env","X-Bus":"b\\"1"}');
  });

  it('says what cannot be resolved and how to fix it', () => {
    const message = (text: string, extra: Partial<TerraformScope> = {}) => {
      try {
        resolveTerraformString(text, { ...scope, ...extra });
      } catch (error) {
        expect(error).toBeInstanceOf(UnresolvedReference);
        return (error as Error).message;
      }
      return 'resolved';
    };
    expect(message('${var.secret}', { env: {} })).toBe('${var.secret} has no value: set TF_VAR_secret (secrets too: Terraform reads them the same way)');
    expect(message('${var.nope}')).toContain('the file declares no variable nope');
    expect(message('${alicloud_event_bridge_event_bus.other.event_bus_name}')).toContain('the file has no resource alicloud_event_bridge_event_bus.other');
    expect(message('${alicloud_event_bridge_event_bus.bus.arn}')).toContain('sets no arn (a value only the cloud knows after apply)');
    expect(message('${data.alicloud_account.account.id}')).toContain('reads a data source');
    expect(message('${upper(var.secret)}')).toContain('does not evaluate');
    expect(message('${jsonencode([var.secret])}')).toContain('does not evaluate');
    expect(message('${jsonencode({"a" = upper(var.secret)})}')).toContain('jsonencode of anything but an object');
    expect(message('%{ if true }x%{ endif }')).toContain('template directive');
    expect(message('${var.secret')).toContain('never closes');
  });
});

describe('readTerraformRules', () => {
  it('reads the buses, the HTTP sources and the rules with their targets, params and retry strategies', () => {
    const rules = readTerraformRules(rollcallLikeStack(INGRESS), { variables: { ingress_secret: 's' } });
    expect(rules.buses).toEqual([
      { name: 'default', declared: true },
      { name: 'rollcall', declared: true },
    ]);
    expect(rules.sources).toEqual([{ address: 'alicloud_event_bridge_event_source_v2.approvals_source', name: 'dingtalk.approval', busName: 'rollcall', protocol: 'HTTPS', methods: ['POST'], securityConfig: 'none', ip: [], referer: [] }]);
    const [approvals, results] = rules.rules;
    expect(approvals).toMatchObject({ address: 'alicloud_event_bridge_rule.approvals', busName: 'rollcall', name: 'approvals', enabled: true, pattern: { source: ['dingtalk.approval', 'lark.approval'] } });
    expect(approvals!.targets[0]).toMatchObject({ id: 'rollcall-ingress', type: 'https', endpoint: INGRESS, retryStrategy: 'BACKOFF_RETRY', deadLetterQueue: 'acs:mns:cn-hangzhou:1234567890123456:/queues/rollcall-dlq' });
    expect(approvals!.targets[0]!.params.get('HeaderParameters')).toEqual({ resourceKey: 'HeaderParameters', form: 'CONSTANT', value: '{"X-Rollcall-Secret":"s"}' });
    expect(results).toMatchObject({ busName: 'default', name: 'cloud-assistant-results' });
    expect(results!.targets[0]!.retryStrategy).toBe('EXPONENTIAL_DECAY_RETRY');
    // The compiled pattern is the rule's filter.
    expect(results!.match({ source: 'acs.ecs', type: 'ecs:CloudAssistant:TaskCompleted', data: { commandName: 'rollcall-agent' } })).toBe(true);
    expect(results!.match({ source: 'acs.ecs', type: 'ecs:CloudAssistant:TaskCompleted', data: { commandName: 'other' } })).toBe(false);
  });

  it('takes a single object where cdktf writes a list, defaults status and retry, and reads DISABLE', () => {
    const stack = rollcallLikeStack(INGRESS);
    const rule = (stack.resource as { alicloud_event_bridge_rule: Record<string, Record<string, unknown>> }).alicloud_event_bridge_rule.approvals!;
    rule.status = 'DISABLE';
    rule.targets = { target_id: 't', type: 'http', endpoint: 'http://127.0.0.1:9/x', param_list: { resource_key: 'Body', form: 'ORIGINAL' } };
    const rules = readTerraformRules(stack, { variables: { ingress_secret: 's' } });
    expect(rules.rules[0]).toMatchObject({ enabled: false, targets: [{ id: 't', retryStrategy: 'BACKOFF_RETRY' }] });
  });

  it('lists every problem at once, each with the resource it is in', () => {
    const stack = rollcallLikeStack(INGRESS, {
      approvalsTargets: [
        httpTarget(INGRESS, { push_retry_strategy: 'SOMETIMES' }),
        httpTarget(INGRESS, { param_list: [{ resource_key: 'body', form: 'ORIGINAL' }, { resource_key: 'url', form: 'REGEX', value: 'x' }] }),
      ],
    });
    const resources = stack.resource as Record<string, Record<string, Record<string, unknown>>>;
    resources.alicloud_event_bridge_rule!.cloud_assistant_results!.filter_pattern = '{"source": "acs.ecs"}';
    resources.alicloud_event_bridge_rule!.broken = { event_bus_name: '${alicloud_event_bridge_event_bus.nope.event_bus_name}', rule_name: 'broken', filter_pattern: '{}', targets: [] };
    resources.alicloud_event_bridge_rule!.empty = { event_bus_name: 'default', rule_name: 'empty', filter_pattern: '{"source":["x"]}', targets: [] };
    const problems = problemsOf(() => readTerraformRules(stack, { env: {} }));
    expect(problems).toEqual([
      expect.stringMatching(/^alicloud_event_bridge_rule\.approvals: .*\$\{var\.ingress_secret\} has no value: set TF_VAR_ingress_secret/),
      expect.stringMatching(/^alicloud_event_bridge_rule\.cloud_assistant_results: .*ingress_secret/),
      'alicloud_event_bridge_rule.broken: ${alicloud_event_bridge_event_bus.nope.event_bus_name}: the file has no resource alicloud_event_bridge_event_bus.nope',
      'alicloud_event_bridge_rule.empty: no targets: a rule needs at least one',
    ]);

    const withSecret = problemsOf(() => readTerraformRules(stack, { variables: { ingress_secret: 's' } }));
    expect(withSecret).toEqual(
      expect.arrayContaining([
        'alicloud_event_bridge_rule.approvals: targets[0] (rollcall-ingress): push_retry_strategy SOMETIMES: must be BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY',
        expect.stringContaining('alicloud_event_bridge_rule.approvals: targets[1] (rollcall-ingress): param url: form REGEX: must be ORIGINAL, JSONPATH, CONSTANT or TEMPLATE'),
        expect.stringContaining('alicloud_event_bridge_rule.approvals: targets[1] (rollcall-ingress): param body: https targets take url, Body, Method'),
        'alicloud_event_bridge_rule.approvals: two targets have the id rollcall-ingress: target ids are unique in a rule',
        expect.stringMatching(/^alicloud_event_bridge_rule\.cloud_assistant_results: filter_pattern: /),
        'alicloud_event_bridge_rule.empty: no targets: a rule needs at least one',
      ]),
    );
  });

  it('refuses more than 5 targets a rule and more than 50 rules a bus, as the cloud would', () => {
    const six = Array.from({ length: 6 }, (_, index) => httpTarget('http://127.0.0.1:9/x', { target_id: `t${index}`, param_list: [{ resource_key: 'Body', form: 'ORIGINAL' }] }));
    expect(problemsOf(() => readTerraformRules(rollcallLikeStack(INGRESS, { approvalsTargets: six }), { variables: { ingress_secret: 's' } }))).toContain('alicloud_event_bridge_rule.approvals: 6 targets: a rule takes at most 5');
    const many = Object.fromEntries(
      Array.from({ length: 51 }, (_, index) => [`r${index}`, { event_bus_name: 'default', rule_name: `r${index}`, filter_pattern: '{"source":["x"]}', targets: [{ target_id: 't', type: 'http', endpoint: 'http://127.0.0.1:9/', param_list: [{ resource_key: 'Body', form: 'ORIGINAL' }] }] }]),
    );
    expect(problemsOf(() => readTerraformRules({ resource: { alicloud_event_bridge_rule: many } }))).toEqual(['bus default: 51 rules: a bus takes at most 50']);
  });

  it('serves a bus only named by a rule, marked as not declared', () => {
    const rules = readTerraformRules({ resource: { alicloud_event_bridge_rule: { r: { event_bus_name: 'elsewhere', rule_name: 'r', filter_pattern: '{"source":["x"]}', targets: [{ target_id: 't', type: 'acs.fc.function', endpoint: 'acs:fc:…', param_list: [] }] } } } });
    expect(rules.buses).toContainEqual({ name: 'elsewhere', declared: false });
  });

  it('loadTerraformRules reads a file and says what to do when it is missing or not JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-eb-'));
    try {
      const file = join(dir, 'cdk.tf.json');
      await writeFile(file, JSON.stringify(rollcallLikeStack(INGRESS)));
      const rules = await loadTerraformRules(file, { env: { TF_VAR_ingress_secret: 'from-env' } });
      expect(rules.rules.map((rule) => rule.name)).toEqual(['approvals', 'cloud-assistant-results']);
      await expect(loadTerraformRules(join(dir, 'missing.json'))).rejects.toThrow('run npm run synth first, or pass --rules');
      await writeFile(file, '{');
      await expect(loadTerraformRules(file)).rejects.toThrow('is not JSON');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The stack's own synthesized output, once `npm run synth` has written it: the emulator must read
// exactly what would be applied (the secret as the variable the stack declares).
const SYNTH_DIR = join(import.meta.dirname, '../../../cdktf.out/stacks');
const synthesized = existsSync(SYNTH_DIR) ? readdirSync(SYNTH_DIR).map((stack) => join(SYNTH_DIR, stack, 'cdk.tf.json')).filter((file) => existsSync(file)) : [];

describe.skipIf(synthesized.length === 0)('the synthesized stack (cdktf.out)', () => {
  it.each(synthesized)('%s loads, with a rule for approvals and one for Cloud Assistant results', async (file) => {
    const rules = await loadTerraformRules(file, { env: { TF_VAR_rollcall_eventbridge_secret: 'a-secret-of-16-characters' } });
    expect(rules.rules.map((rule) => rule.name)).toEqual(expect.arrayContaining(['approvals', 'cloud-assistant-results']));
    expect(rules.sources.length).toBeGreaterThan(0);
  });
});
