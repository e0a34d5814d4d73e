import { RollcallError } from '../config/errors.js';
import type { RequestProvider } from '../requests/provider.js';
import { createProvider, providers, type GithubSettings, type ProviderContext } from '../requests/providers.js';

/**
 * The request provider `rollcall serve` submits approvals through, from the environment:
 * ROLLCALL_PROVIDER (`local`, the default, or `github`) and, for github, ROLLCALL_GITHUB_REPOSITORY
 * (owner/name), ROLLCALL_GITHUB_TOKEN, ROLLCALL_GITHUB_API (GitHub Enterprise), ROLLCALL_GITHUB_LABELS
 * (comma-separated) and ROLLCALL_GITHUB_AUTO_MERGE (1/true).
 *
 * @throws RollcallError 'invalid-input' naming the variable to fix.
 */
export function providerFromEnv(env: NodeJS.ProcessEnv, context: Omit<ProviderContext, 'env' | 'github'>): RequestProvider {
  const name = env.ROLLCALL_PROVIDER?.trim() || 'local';
  if (!Object.hasOwn(providers, name)) {
    throw new RollcallError('invalid-input', `ROLLCALL_PROVIDER=${name}: use one of ${Object.keys(providers).join(', ')}`);
  }
  return createProvider(name, { ...context, env, ...(name === 'github' ? { github: githubSettings(env) } : {}) });
}

/**
 * The github provider's settings: ROLLCALL_GITHUB_REPOSITORY (owner/name), ROLLCALL_GITHUB_API
 * (GitHub Enterprise), ROLLCALL_GITHUB_LABELS (comma-separated), ROLLCALL_GITHUB_AUTO_MERGE
 * (1/true); the token is ROLLCALL_GITHUB_TOKEN.
 */
export function githubSettings(env: NodeJS.ProcessEnv): GithubSettings {
  const [owner, repo, ...rest] = (env.ROLLCALL_GITHUB_REPOSITORY ?? '').split('/');
  if (!owner || !repo || rest.length > 0) {
    throw new RollcallError('invalid-input', 'ROLLCALL_PROVIDER=github needs ROLLCALL_GITHUB_REPOSITORY=owner/name: the repository on GitHub that pull requests are opened in');
  }
  const labels = (env.ROLLCALL_GITHUB_LABELS ?? '').split(',').map((label) => label.trim()).filter(Boolean);
  return {
    owner,
    repo,
    tokenEnv: 'ROLLCALL_GITHUB_TOKEN',
    ...(env.ROLLCALL_GITHUB_API ? { apiUrl: env.ROLLCALL_GITHUB_API } : {}),
    ...(labels.length > 0 ? { labels } : {}),
    ...(/^(1|true|yes)$/i.test(env.ROLLCALL_GITHUB_AUTO_MERGE ?? '') ? { autoMerge: true } : {}),
  };
}

