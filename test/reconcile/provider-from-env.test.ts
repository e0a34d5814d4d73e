import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { githubSettings, providerFromEnv } from '../../src/reconcile/provider-from-env.js';

const CONTEXT = { repoDir: '/srv/desired.git', desiredPath: 'desired-state', branch: 'main' };

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RollcallError);
    return (error as Error).message;
  }
  throw new Error('expected a RollcallError');
}

describe('providerFromEnv', () => {
  it('is the local provider by default', () => {
    expect(providerFromEnv({}, CONTEXT).name).toBe('local');
  });

  it('is the github provider with its repository and token', () => {
    expect(providerFromEnv({ ROLLCALL_PROVIDER: 'github', ROLLCALL_GITHUB_REPOSITORY: 'acme/desired', ROLLCALL_GITHUB_TOKEN: 'ghp_x' }, CONTEXT).name).toBe('github');
  });

  it('names the variable to fix', () => {
    expect(refusal(() => providerFromEnv({ ROLLCALL_PROVIDER: 'gitea' }, CONTEXT))).toBe('ROLLCALL_PROVIDER=gitea: use one of local, github');
    expect(refusal(() => providerFromEnv({ ROLLCALL_PROVIDER: 'github' }, CONTEXT))).toContain('needs ROLLCALL_GITHUB_REPOSITORY=owner/name');
    expect(refusal(() => providerFromEnv({ ROLLCALL_PROVIDER: 'github', ROLLCALL_GITHUB_REPOSITORY: 'acme/desired' }, CONTEXT))).toContain('set ROLLCALL_GITHUB_TOKEN');
    expect(refusal(() => githubSettings({ ROLLCALL_GITHUB_REPOSITORY: 'acme/desired/extra' }))).toContain('owner/name');
  });

  it('reads labels, auto-merge and the API address', () => {
    expect(githubSettings({ ROLLCALL_GITHUB_REPOSITORY: 'acme/desired', ROLLCALL_GITHUB_LABELS: 'access, rollcall ,', ROLLCALL_GITHUB_AUTO_MERGE: 'true', ROLLCALL_GITHUB_API: 'https://ghe.acme.example/api/v3' })).toEqual({
      owner: 'acme',
      repo: 'desired',
      tokenEnv: 'ROLLCALL_GITHUB_TOKEN',
      apiUrl: 'https://ghe.acme.example/api/v3',
      labels: ['access', 'rollcall'],
      autoMerge: true,
    });
  });
});
