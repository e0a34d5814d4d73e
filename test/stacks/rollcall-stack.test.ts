import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { RollcallStack } from '../../stacks/rollcall-stack.js';

describe('RollcallStack', () => {
  it('synthesizes with its region as an output', () => {
    const stack = new RollcallStack(Testing.app(), 'rollcall', { region: 'cn-shanghai' });
    const synthesized = JSON.parse(Testing.synth(stack)) as { output?: Record<string, { value: string }> };
    expect(synthesized.output?.region?.value).toBe('cn-shanghai');
  });

  it('is what the cdktf app in cdktf.json synthesizes', () => {
    const config = JSON.parse(readFileSync('cdktf.json', 'utf8')) as { app: string };
    expect(config.app).toBe('npx tsx stacks/main.ts');
    const outdir = mkdtempSync(path.join(tmpdir(), 'rollcall-cdktf-'));
    execFileSync(process.execPath, ['--import', 'tsx', 'stacks/main.ts'], { env: { ...process.env, CDKTF_OUTDIR: outdir, ROLLCALL_REGION: 'cn-beijing' } });
    const stack = JSON.parse(readFileSync(path.join(outdir, 'stacks', 'rollcall', 'cdk.tf.json'), 'utf8')) as { output: Record<string, { value: string }> };
    expect(stack.output.region?.value).toBe('cn-beijing');
  });
});
