import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkAgainstSchema, type ProviderSchemaFile } from './check-against-schema.js';
import { FULL_CONFIG, MINIMAL_CONFIG, synthStack } from './stack-fixtures.js';

const schema = JSON.parse(readFileSync(new URL('../../stacks/alicloud-provider-schema.json', import.meta.url), 'utf8')) as ProviderSchemaFile;
const full = synthStack(FULL_CONFIG).document as unknown as Record<string, unknown>;

/** A deep copy of the synthesized document with one change made to it. */
function broken(change: (document: Record<string, Record<string, Record<string, Record<string, unknown>>>>) => void): Record<string, unknown> {
  const copy = structuredClone(full) as Record<string, Record<string, Record<string, Record<string, unknown>>>>;
  change(copy);
  return copy;
}

describe('the synthesized stack against the provider schema (aliyun/alicloud 1.289.0)', () => {
  it('uses only attributes and blocks the schema has, each with its type, and every required one', () => {
    expect(checkAgainstSchema(full, schema)).toEqual([]);
    expect(checkAgainstSchema(synthStack(MINIMAL_CONFIG).document as unknown as Record<string, unknown>, schema)).toEqual([]);
  });

  it('checks every resource type the stack makes (none is skipped as unknown)', () => {
    const types = Object.keys((full['resource'] as Record<string, unknown>) ?? {}).sort();
    expect(types).toEqual([
      'alicloud_ecs_command',
      'alicloud_event_bridge_event_bus',
      'alicloud_event_bridge_event_source_v2',
      'alicloud_event_bridge_rule',
      'alicloud_event_bridge_service_linked_role',
      'alicloud_ram_policy',
      'alicloud_ram_role',
      'alicloud_ram_role_policy_attachment',
    ]);
  });

  it('fails a misspelt attribute, a nested one, a wrong type, a computed-only or missing required attribute, an unknown resource', () => {
    const misspelt = broken((document) => {
      const rule = document['resource']!['alicloud_event_bridge_rule']!['approvals']!;
      rule['filter_patern'] = rule['filter_pattern'];
      delete rule['filter_pattern'];
    });
    expect(checkAgainstSchema(misspelt, schema)).toEqual([
      'alicloud_event_bridge_rule.approvals.filter_patern: no such attribute or block in the schema',
      'alicloud_event_bridge_rule.approvals.filter_pattern: is required',
    ]);

    const nested = broken((document) => {
      const target = (document['resource']!['alicloud_event_bridge_rule']!['approvals']!['targets'] as Record<string, unknown>[])[0]!;
      (target['param_list'] as Record<string, unknown>[])[0]!['resourceKey'] = 'url';
      target['dead_letter_queue'] = { arn: 'x', queue: 'y' };
    });
    expect(checkAgainstSchema(nested, schema)).toEqual([
      'alicloud_event_bridge_rule.approvals.targets[0].dead_letter_queue.queue: no such attribute or block in the schema',
      'alicloud_event_bridge_rule.approvals.targets[0].param_list[0].resourceKey: no such attribute or block in the schema',
    ]);

    const types = broken((document) => {
      const command = document['resource']!['alicloud_ecs_command']!['agent']!;
      command['timeout'] = '900';
      command['enable_parameter'] = 'true';
      document['resource']!['alicloud_event_bridge_event_source_v2']!['lark-approvals']!['source_http_event_parameters'] = { method: 'POST' };
    });
    expect(checkAgainstSchema(types, schema)).toEqual([
      'alicloud_ecs_command.agent.enable_parameter: must be a bool, not a string ("true")',
      'alicloud_ecs_command.agent.timeout: must be a number, not a string ("900")',
      'alicloud_event_bridge_event_source_v2.lark-approvals.source_http_event_parameters.method: must be a list (a JSON array), not a string ("POST")',
    ]);

    const computed = broken((document) => {
      document['resource']!['alicloud_ram_role']!['role']!['arn'] = 'acs:ram::1:role/rollcall';
      delete document['resource']!['alicloud_ram_role_policy_attachment']!['policy-attachment']!['policy_type'];
      document['resource']!['alicloud_event_bridge_rules'] = { x: {} };
    });
    expect(checkAgainstSchema(computed, schema)).toEqual([
      'alicloud_ram_role.role.arn: is computed by the provider and cannot be set',
      'alicloud_ram_role_policy_attachment.policy-attachment.policy_type: is required',
      'alicloud_event_bridge_rules.x: alicloud_event_bridge_rules is not a resource of the provider schema',
    ]);
  });
});
