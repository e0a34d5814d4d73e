import { describe, expect, it } from 'vitest';
import { SandboxError } from '../../../../src/emulators/ecs/sandbox/sandbox-errors.js';
import { substituteParameters } from '../../../../src/emulators/ecs/sandbox/substitute-parameters.js';

describe('substituteParameters', () => {
  it('replaces every occurrence of a placeholder with its value', () => {
    expect(substituteParameters('echo {{login}} {{uid}}; id {{login}}', { login: 'alice', uid: '20001' })).toBe('echo alice 20001; id alice');
  });

  it('matches names case-insensitively, both ways', () => {
    expect(substituteParameters('{{Login}} {{LOGIN}} {{login}}', { LoGiN: 'alice' })).toBe('alice alice alice');
  });

  it('accepts letters, digits, _ and - in names', () => {
    expect(substituteParameters('{{a_b-9}}', { 'a_b-9': 'x' })).toBe('x');
  });

  it('substitutes plain text: quotes, semicolons and newlines go in as they are', () => {
    expect(substituteParameters("echo '{{v}}'", { v: "it's" })).toBe("echo 'it's'");
    expect(substituteParameters('echo {{v}}', { v: '1; rm -rf /' })).toBe('echo 1; rm -rf /');
    expect(substituteParameters('{{v}}', { v: 'a\nb $HOME `id` \\' })).toBe('a\nb $HOME `id` \\');
  });

  it('takes a replacement value literally, $& and $1 included', () => {
    expect(substituteParameters('{{v}}', { v: '$& $1 $$' })).toBe('$& $1 $$');
  });

  it('leaves a placeholder with no value as it is', () => {
    expect(substituteParameters('echo {{missing}} {{ACS::RegionId}}', { other: 'x' })).toBe('echo {{missing}} {{ACS::RegionId}}');
  });

  it('substitutes once: a value that holds a placeholder is not expanded again', () => {
    expect(substituteParameters('{{a}}', { a: '{{b}}', b: 'no' })).toBe('{{b}}');
  });

  it('leaves text that is not a placeholder alone', () => {
    const script = 'echo {{ v }} {v} {{}} {{a.b}} {{a b}} ${{v}x}';
    expect(substituteParameters(script, { v: 'X', 'a.b': 'Y' })).toBe(script);
  });

  it('fills in the built-in parameters', () => {
    const script = [
      '{{ACS::RegionId}}',
      '{{ACS::AccountId}}',
      '{{ACS::InstanceId}}',
      '{{ACS::InstanceName}}',
      '{{ACS::InvokeId}}',
      '{{ACS::CommandId}}',
    ].join(' ');
    const builtins = {
      regionId: 'cn-hangzhou',
      accountId: '1234567890',
      instanceId: 'i-local0001',
      instanceName: 'web-1',
      invokeId: 't-hz0001',
      commandId: 'c-hz0001',
    };
    expect(substituteParameters(script, {}, builtins)).toBe('cn-hangzhou 1234567890 i-local0001 web-1 t-hz0001 c-hz0001');
  });

  it('matches built-ins case-insensitively and leaves unknown or unset ones alone', () => {
    expect(substituteParameters('{{acs::instanceid}} {{ACS::Nope}} {{ACS::InvokeId}}', {}, { instanceId: 'i-1' })).toBe('i-1 {{ACS::Nope}} {{ACS::InvokeId}}');
  });

  it('never lets a custom parameter stand in for a built-in', () => {
    expect(substituteParameters('{{ACS::RegionId}}', { 'ACS::RegionId': 'evil' })).toBe('{{ACS::RegionId}}');
  });

  it('refuses two parameter names that differ only in case', () => {
    expect(() => substituteParameters('{{v}}', { v: '1', V: '2' })).toThrow(
      expect.objectContaining({ constructor: SandboxError, code: 'invalid-argument' }),
    );
  });

  it('returns the script unchanged when it has no placeholders', () => {
    expect(substituteParameters('id -u\n', { v: 'x' }, { instanceId: 'i-1' })).toBe('id -u\n');
  });
});
