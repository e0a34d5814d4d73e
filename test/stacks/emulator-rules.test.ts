import { describe, expect, it } from 'vitest';
import { readTerraformRules } from '../../src/emulators/eventbridge/load-terraform-rules.js';
import { SECRET_VARIABLE } from '../../stacks/rollcall-stack.js';
import { MINIMAL_CONFIG, synthStack } from './stack-fixtures.js';

describe('the synthesized stack as the EventBridge emulator reads it', () => {
  it('loads its buses, sources and rules, with the secret variable resolved into the header', () => {
    const { document } = synthStack({ ...MINIMAL_CONFIG, ingressUrl: 'http://127.0.0.1:8080', platforms: ['dingtalk', 'lark'] });
    const loaded = readTerraformRules(document, { variables: { [SECRET_VARIABLE]: 'a-secret-of-at-least-16' }, env: {} });
    expect(loaded.buses.map((bus) => bus.name).sort()).toEqual(['default', 'rollcall']);
    expect(loaded.sources.map((source) => [source.name, source.busName, source.methods])).toEqual([
      ['dingtalk.approval', 'rollcall', ['POST']],
      ['lark.approval', 'rollcall', ['POST']],
    ]);
    expect(loaded.rules.map((rule) => [rule.name, rule.busName])).toEqual([
      ['approvals', 'rollcall'],
      ['cloud-assistant-results', 'default'],
      ['new-instances', 'default'],
    ]);
    const target = loaded.rules[0]!.targets[0]!;
    expect(target).toMatchObject({ id: 'rollcall-ingress', type: 'http', endpoint: 'http://127.0.0.1:8080/ingress/eventbridge', retryStrategy: 'EXPONENTIAL_DECAY_RETRY' });
    expect(target.params.get('HeaderParameters')).toEqual({ resourceKey: 'HeaderParameters', form: 'CONSTANT', value: '{"X-Rollcall-Secret":"a-secret-of-at-least-16"}' });
  });
});
