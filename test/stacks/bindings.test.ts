import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = 'scripts/generate-alicloud-bindings.ts';
const generate = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });

describe('the committed alicloud bindings (stacks/.gen)', () => {
  it('are exactly what the script generates from the committed schema now', () => {
    const check = generate('--check');
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(check.stdout).toBe('stacks/.gen is what the generator makes from the schema\n');
  });

  it('a folder that drifted (edited, missing or stray files) fails the check, naming each file', () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'rollcall-bindings-'));
    try {
      cpSync('stacks/.gen', copy, { recursive: true });
      appendFileSync(path.join(copy, 'providers/alicloud/ecs-command/index.ts'), '// edited by hand\n');
      rmSync(path.join(copy, 'providers/alicloud/ram-role/README.md'));
      writeFileSync(path.join(copy, 'providers/alicloud/stray.ts'), '');
      const check = generate('--check', '--out', copy);
      expect(check.status).toBe(1);
      expect(check.stderr).toContain('differs from what the generator makes (run npm run bindings and commit)');
      expect(check.stderr).toContain('  providers/alicloud/ecs-command/index.ts (differs)\n  providers/alicloud/ram-role/README.md (missing)\n  providers/alicloud/stray.ts (not generated: remove it)\n');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('name the provider and version cdktf.json asks for, as cdktf get records them', () => {
    expect(JSON.parse(readFileSync('stacks/.gen/constraints.json', 'utf8'))).toEqual({ cdktf: '0.21.0', providers: { 'aliyun/alicloud': '1.289.0' } });
    expect(JSON.parse(readFileSync('stacks/.gen/versions.json', 'utf8'))).toEqual({ 'registry.terraform.io/aliyun/alicloud': '1.289.0' });
    expect(readFileSync('stacks/.gen/providers/alicloud/provider/index.ts', 'utf8')).toContain("providerVersionConstraint: '1.289.0'");
  });
});
