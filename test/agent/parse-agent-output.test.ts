import { describe, expect, it } from 'vitest';
import { mergeInventoryPages, parseApplyOutput, parseInventoryPage } from '../../src/agent/parse-agent-output.js';

describe('parseApplyOutput', () => {
  it('reads one result per line and the summary', () => {
    const output = parseApplyOutput(
      [
        '{"op":"group","kind":"group","name":"dev","status":"changed"}',
        '{"op":"user","kind":"user","name":"alice","status":"failed","error":"useradd: boom"}',
        '{"summary":{"changed":1,"unchanged":0,"failed":1},"generation":3}',
        '',
      ].join('\n'),
    );
    expect(output.results).toEqual([
      { op: 'group', kind: 'group', name: 'dev', status: 'changed' },
      { op: 'user', kind: 'user', name: 'alice', status: 'failed', error: 'useradd: boom' },
    ]);
    expect(output.summary).toEqual({ changed: 1, unchanged: 0, failed: 1 });
    expect(output.errors).toEqual([]);
  });

  it('reports a refused generation, an agent error and unreadable lines', () => {
    const output = parseApplyOutput('{"summary":{"changed":0,"unchanged":0,"failed":0},"generation":2,"refused":"generation 2 is older than 5"}\n{"error":"ops is not base64 of gzip"}\nBoom\n');
    expect(output.refused).toBe('generation 2 is older than 5');
    expect(output.errors).toEqual(['ops is not base64 of gzip', 'unreadable agent output: Boom']);
  });
});

describe('inventory pages', () => {
  const page1 = '{"users":[{"login":"root","uid":0,"managed":false}],"groups":[],"sudoers":{},"nextPage":"1"}';
  const page2 = '{"users":[],"groups":[{"name":"dev","gid":3001,"members":[],"managed":true}],"sudoers":{"rollcall-dev":"%dev ALL=(ALL) ALL\\n"}}';

  it('merges pages into one snapshot instance, with the tags from the ECS API', () => {
    const instance = mergeInventoryPages([parseInventoryPage('i-1', page1), parseInventoryPage('i-1', page2)], { app: 'web' });
    expect(instance).toEqual({
      tags: { app: 'web' },
      users: [{ login: 'root', uid: 0, managed: false }],
      groups: [{ name: 'dev', gid: 3001, members: [], managed: true }],
      sudoers: { 'rollcall-dev': '%dev ALL=(ALL) ALL\n' },
    });
  });

  it('names the instance when the output is broken or an error', () => {
    expect(() => parseInventoryPage('i-9', '{"users":[')).toThrow(/i-9: the agent's inventory is not JSON/);
    expect(() => parseInventoryPage('i-9', '{"error":"page must be a number"}')).toThrow('i-9: the agent says: page must be a number');
  });
});
