import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_INSTALL_PATH, AGENT_SCRIPT, AGENT_SHA256, agentParameters, agentStub } from '../../src/agent/agent-script.js';

describe('the agent script', () => {
  it('is rollcall-agent.sh as shipped, and the stub checks exactly its sha256', () => {
    expect(AGENT_SCRIPT).toBe(readFileSync('src/agent/rollcall-agent.sh', 'utf8'));
    expect(AGENT_SHA256).toBe(createHash('sha256').update(AGENT_SCRIPT).digest('hex'));
    expect(agentStub()).toContain(`want=${AGENT_SHA256}\n`);
    expect(agentStub()).toContain(`a=${AGENT_INSTALL_PATH}\n`);
  });

  it('places every parameter inside single quotes, in the agent and in the stub', () => {
    for (const script of [AGENT_SCRIPT, agentStub()]) {
      const placeholders = script.match(/.?\{\{[^}]*\}\}.?/g) ?? [];
      expect(placeholders.length).toBeGreaterThanOrEqual(3);
      for (const placeholder of placeholders) expect(placeholder).toMatch(/^'\{\{(mode|ops|page)\}\}'$/);
    }
  });

  it('uses no bash-only syntax', () => {
    const code = AGENT_SCRIPT.split('\n').filter((line) => !line.trimStart().startsWith('#'));
    for (const bashism of [/\[\[/, /^\s*function\s+\w+\s*(\(\s*\))?\s*\{/, /\$\{[^}]*\/\//, /<<</, /^\s*local\s/, /\bdeclare\b/, /(^|\s)\$'/]) {
      expect(code.filter((line) => bashism.test(line)), String(bashism)).toEqual([]);
    }
    expect(AGENT_SCRIPT).not.toMatch(/\beval\b|\bjq\b|\bpython/);
  });
});

describe('agentParameters', () => {
  it('passes a mode, base64 and a page number', () => {
    expect(agentParameters('apply', { ops: 'H4sIAAAA+/==' })).toEqual({ mode: 'apply', ops: 'H4sIAAAA+/==', page: '' });
    expect(agentParameters('inventory', { page: '120' })).toEqual({ mode: 'inventory', ops: '', page: '120' });
  });

  it('refuses anything that could close the quotes around it', () => {
    expect(() => agentParameters('apply', { ops: "x'; touch /tmp/pwned; '" })).toThrow('agent ops must be base64');
    expect(() => agentParameters('inventory', { page: "1'$(reboot)'" })).toThrow('agent page must be a number');
    expect(() => agentParameters('inventory; reboot' as 'inventory')).toThrow(/agent mode must be/);
  });
});
