import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FULL_CONFIG, MINIMAL_CONFIG, synthStack } from './stack-fixtures.js';

const EXECUTOR = 'src/executors/cloud-assistant';

/** The ECS API actions the executor calls: the names it gives `this.call(…)` (its one way to the API). */
function actionsCalled(): Set<string> {
  const actions = new Set<string>();
  for (const file of readdirSync(EXECUTOR).filter((name) => name.endsWith('.ts'))) {
    for (const call of readFileSync(path.join(EXECUTOR, file), 'utf8').matchAll(/this\.call\(([^()]*?),\s*\(\)\s*=>/g)) {
      for (const name of call[1]!.matchAll(/'([A-Z][A-Za-z]+)'/g)) actions.add(`ecs:${name[1]}`);
    }
  }
  return actions;
}

const allowed = (config: typeof FULL_CONFIG | typeof MINIMAL_CONFIG) => {
  const document = synthStack(config).document;
  const policy = JSON.parse(document.resource['alicloud_ram_policy']!['policy']!['policy_document'] as string) as { Statement: { Action: string[] }[] };
  return new Set(policy.Statement.flatMap((statement) => statement.Action));
};

describe('the RAM policy and what rollcall calls', () => {
  it('finds the executor’s calls (the scan itself works)', () => {
    expect(actionsCalled()).toContain('ecs:DescribeInvocationResults');
    expect(actionsCalled()).toContain('ecs:RunCommand');
  });

  it('allows exactly the actions the executor calls, RunCommand only in inline mode', () => {
    // A call added to the executor without the policy (StopInvocation, say) fails here: add it to ECS_ACTIONS.
    expect([...allowed(FULL_CONFIG)].sort()).toEqual([...actionsCalled()].sort());
    expect([...allowed(MINIMAL_CONFIG)].sort()).toEqual([...actionsCalled()].filter((action) => action !== 'ecs:RunCommand').sort());
  });
});
