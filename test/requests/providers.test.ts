import { describe, expect, it } from 'vitest';
import { GithubProvider } from '../../src/requests/github-provider.js';
import { LocalProvider } from '../../src/requests/local-provider.js';
import { createProvider, providers } from '../../src/requests/providers.js';

const context = { repoDir: '/tmp/repo', desiredPath: 'desired-state', branch: 'main' };

describe('providers', () => {
  it('names local and github, each making its own provider', () => {
    expect(Object.keys(providers)).toEqual(['local', 'github']);
    const local = createProvider('local', context);
    expect(local).toBeInstanceOf(LocalProvider);
    expect(local.name).toBe('local');
    const github = createProvider('github', { ...context, github: { owner: 'acme', repo: 'access', tokenEnv: 'GH_TOKEN' }, env: { GH_TOKEN: 'x' } });
    expect(github).toBeInstanceOf(GithubProvider);
    expect(github.name).toBe('github');
  });

  it('says what to configure: an unknown name, github without a repository or a token', () => {
    expect(() => createProvider('gitlab', context)).toThrow('unknown request provider "gitlab": use one of local, github');
    expect(() => createProvider('toString', context)).toThrow(/unknown request provider/);
    expect(() => createProvider('github', context)).toThrow(/needs the owner and name of the repository/);
    expect(() => createProvider('github', { ...context, github: { owner: 'acme', repo: 'access' }, env: {} })).toThrow('the github provider needs a token: set GITHUB_TOKEN to a token with pull requests: write and contents: write on acme/access');
  });
});
