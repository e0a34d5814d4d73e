import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import { GithubProvider } from './github-provider.js';
import { LocalProvider } from './local-provider.js';
import type { RequestProvider } from './provider.js';

/** What every provider is made from: the repository rollcall works in, and the tracked branch. */
export interface ProviderContext {
  /** The repository: a work tree, a bare repository, or rollcall's clone of a remote. */
  repoDir: string;
  /** The desired-state folder inside it, e.g. `desired-state`. */
  desiredPath: string;
  /** The tracked branch (pull requests go into it). */
  branch: string;
  /** The remote to push to: `origin` when rollcall works from a clone of a remote; none for a local repository. */
  remote?: string;
  /** Settings of the `github` provider. */
  github?: GithubSettings;
  /** Environment of git and where tokens are read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  logger?: Pick<Logger, 'warn'>;
  /** The plan of a commit, for pull request bodies. */
  planFor?: (commitSha: string) => Promise<string | undefined>;
}

/** The `github` provider's settings: where the repository is and what each pull request gets. */
export interface GithubSettings {
  owner: string;
  repo: string;
  /** Default https://api.github.com. */
  apiUrl?: string;
  /** The environment variable holding the token. Default GITHUB_TOKEN. */
  tokenEnv?: string;
  labels?: readonly string[];
  autoMerge?: boolean;
  mergeMethod?: 'MERGE' | 'SQUASH' | 'REBASE';
}

/**
 * The providers by name. A new forge (GitLab, Codeup) is one more entry: a class implementing
 * {@link RequestProvider} and its factory here.
 */
export const providers: Readonly<Record<string, (context: ProviderContext) => RequestProvider>> = {
  local: (context) =>
    new LocalProvider({
      repoDir: context.repoDir,
      desiredPath: context.desiredPath,
      branch: context.branch,
      ...(context.remote !== undefined ? { remote: context.remote } : {}),
      ...(context.env !== undefined ? { env: context.env } : {}),
      ...(context.logger !== undefined ? { logger: context.logger } : {}),
    }),
  github: (context) => {
    const settings = context.github;
    if (settings === undefined) throw new RollcallError('invalid-input', 'the github provider needs the owner and name of the repository on GitHub: configure them');
    const tokenEnv = settings.tokenEnv ?? 'GITHUB_TOKEN';
    const token = (context.env ?? process.env)[tokenEnv];
    if (!token) throw new RollcallError('invalid-input', `the github provider needs a token: set ${tokenEnv} to a token with pull requests: write and contents: write on ${settings.owner}/${settings.repo}`);
    return new GithubProvider({
      repoDir: context.repoDir,
      desiredPath: context.desiredPath,
      remote: context.remote ?? 'origin',
      owner: settings.owner,
      repo: settings.repo,
      token,
      baseBranch: context.branch,
      ...(settings.apiUrl !== undefined ? { apiUrl: settings.apiUrl } : {}),
      ...(settings.labels !== undefined ? { labels: settings.labels } : {}),
      ...(settings.autoMerge !== undefined ? { autoMerge: settings.autoMerge } : {}),
      ...(settings.mergeMethod !== undefined ? { mergeMethod: settings.mergeMethod } : {}),
      ...(context.planFor !== undefined ? { planFor: context.planFor } : {}),
      ...(context.env !== undefined ? { env: context.env } : {}),
      ...(context.logger !== undefined ? { logger: context.logger } : {}),
    });
  },
};

/** The provider called `name`; an unknown name is the configuration's to fix. */
export function createProvider(name: string, context: ProviderContext): RequestProvider {
  const factory = Object.hasOwn(providers, name) ? providers[name] : undefined;
  if (factory === undefined) throw new RollcallError('invalid-input', `unknown request provider "${name}": use one of ${Object.keys(providers).join(', ')}`);
  return factory(context);
}
