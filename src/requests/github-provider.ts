import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import { runGit, type GitOptions, type GitResult } from '../source/git.js';
import { approvalBranch, commitApproval } from './commit-request.js';
import type { PullRequestResult, RequestProvider, SubmitResult } from './provider.js';
import type { ApprovalEvent, Request } from './types.js';

/** How the {@link GithubProvider} reaches the repository and GitHub. */
export interface GithubProviderOptions {
  /** rollcall's clone of the repository (the approval commits are made here and pushed). */
  repoDir: string;
  /** The desired-state folder inside the repository, e.g. `desired-state`. */
  desiredPath: string;
  /** The git remote of the GitHub repository. Default `origin`. */
  remote?: string;
  owner: string;
  repo: string;
  /** The REST API's root: `https://api.github.com`, or GitHub Enterprise's `https://<host>/api/v3`. */
  apiUrl?: string;
  /** A token with pull requests: write (and contents: write for the push): the caller reads it from the environment. */
  token: string;
  /** The branch pull requests go into. */
  baseBranch: string;
  /** Labels set on each pull request. */
  labels?: readonly string[];
  /** Turn on auto-merge for each pull request (the repository must allow auto-merge). */
  autoMerge?: boolean;
  /** The merge method auto-merge uses. Default MERGE. */
  mergeMethod?: 'MERGE' | 'SQUASH' | 'REBASE';
  /** The plan of the change (rendered text), put in the pull request's body in a diff block. */
  planFor?: (commitSha: string) => Promise<string | undefined>;
  /** Default the global fetch. */
  fetch?: typeof fetch;
  /** The environment of git (credentials for the push, committer). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  logger?: Pick<Logger, 'warn'>;
  /** Retries of a secondary rate limit or a server error. Default 4. */
  maxRetries?: number;
  /** The first backoff without a Retry-After, doubled each time. Default 1000 ms. */
  backoffMs?: number;
  /** A Retry-After longer than this is not waited for: the error is returned (retryable). Default 60 s. */
  maxWaitMs?: number;
}

const PullRequest = z.looseObject({
  number: z.number(),
  html_url: z.string(),
  node_id: z.string(),
  state: z.string(),
  merged_at: z.string().nullish(),
});
type PullRequest = z.output<typeof PullRequest>;

const ErrorBody = z.looseObject({
  message: z.string().optional(),
  errors: z.array(z.looseObject({ message: z.string().optional(), code: z.string().optional() })).optional(),
});

const GraphqlReply = z.looseObject({ errors: z.array(z.looseObject({ message: z.string() })).optional() });

const NETWORK_TIMEOUT_MS = 120_000;
const PUSH_ATTEMPTS = 3;

/**
 * The `github` provider: commits the approval on `rollcall/<platform>-<id>` only (on the tip of the
 * base branch), pushes that branch and opens a pull request for it through the REST API, with the
 * form, the trailers and the plan in its body, labels, and auto-merge when asked. Exactly once: an
 * approval branch on the remote is reused, and a pull request with that head (open or closed) is
 * returned as existing; a concurrent creation (422 "A pull request already exists") too.
 */
export class GithubProvider implements RequestProvider {
  readonly name = 'github';
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: GithubProviderOptions) {}

  submit(event: ApprovalEvent, request: Request): Promise<SubmitResult> {
    // One approval at a time per repository in this process; other processes meet at the remote and the API.
    const key = path.resolve(this.options.repoDir);
    const run = (this.queues.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => this.submitNow(event, request));
    this.queues.set(key, run);
    void run.finally(() => {
      if (this.queues.get(key) === run) this.queues.delete(key);
    }).catch(() => undefined);
    return run;
  }

  private git(args: readonly string[], more: Omit<GitOptions, 'env'> & { okExitCodes?: readonly number[] } = {}): Promise<GitResult> {
    return runGit(this.options.repoDir, args, { ...more, env: this.options.env ?? process.env });
  }

  private async submitNow(event: ApprovalEvent, request: Request): Promise<SubmitResult> {
    const pushed = await this.pushApprovalBranch(event, request);
    if (pushed.status !== 'pushed') return pushed.result;
    const { sha, branch } = pushed;
    const found = await this.findPullRequest(branch);
    if (found !== undefined) return this.finish(found, sha, branch, true);
    const title = (await this.git(['log', '-1', '--format=%s', sha])).text.trim();
    const body = await this.body(event, sha);
    const created = await this.api('POST', `/repos/${this.slug()}/pulls`, { title, head: branch, base: this.options.baseBranch, body, maintainer_can_modify: true }, [422]);
    if (created.status === 422) {
      // Opened meanwhile by another delivery of this approval: that one is the pull request.
      if (/pull request already exists/i.test(JSON.stringify(created.body))) {
        const existing = await this.findPullRequest(branch);
        if (existing !== undefined) return this.finish(existing, sha, branch, true);
      }
      throw this.failure(422, created.body, `open a pull request from ${branch}`);
    }
    return this.finish(parse(PullRequest, created.body, 'the created pull request'), sha, branch, false);
  }

  /** The approval's commit on the remote: the remote's branch, or a new commit pushed as it. */
  private async pushApprovalBranch(event: ApprovalEvent, request: Request): Promise<{ status: 'pushed'; sha: string; branch: string } | { status: 'done'; result: SubmitResult }> {
    const { remote = 'origin', baseBranch } = this.options;
    const branch = approvalBranch(event);
    const refs = { base: `refs/remotes/${remote}/${baseBranch}`, own: `refs/heads/${branch}`, remoteOwn: `refs/remotes/${remote}/${branch}` };
    for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt += 1) {
      // The approval's branch by a pattern, so that a remote without it is no error.
      await this.git(['fetch', '--verbose', '--no-tags', '--prune', remote, `+refs/heads/${baseBranch}:${refs.base}`, `+refs/heads/${branch}*:refs/remotes/${remote}/${branch}*`], { timeoutMs: NETWORK_TIMEOUT_MS }).catch((error: unknown) => {
        throw new RollcallError('git', `could not fetch ${baseBranch} from ${remote}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      });
      const remoteOwn = (await this.git(['rev-parse', '--verify', '--quiet', refs.remoteOwn], { okExitCodes: [0, 1] })).text.trim();
      if (remoteOwn !== '') {
        await this.git(['update-ref', refs.own, remoteOwn]);
        return { status: 'pushed', sha: remoteOwn, branch };
      }
      const hadLocal = (await this.git(['rev-parse', '--verify', '--quiet', refs.own], { okExitCodes: [0, 1] })).text.trim() !== '';
      const result = await commitApproval(this.options.repoDir, this.options.desiredPath, event, request, {
        branch: baseBranch,
        branchOnly: { base: refs.base },
        ...(this.options.env !== undefined ? { env: this.options.env } : {}),
      });
      if (result.status === 'refused') return { status: 'done', result };
      // Found by its trailer on the base branch: merged already (its branch may be deleted since).
      if (result.status === 'existing' && !hadLocal) return { status: 'done', result };
      const sha = result.sha;
      const pushed = await this.git(['push', '--porcelain', remote, `${sha}:${refs.own}`], { okExitCodes: [0, 1, 128], timeoutMs: NETWORK_TIMEOUT_MS });
      const line = pushed.text.split('\n').find((entry) => entry.includes(`:${refs.own}\t`)) ?? '';
      if (pushed.exitCode === 0 && !line.startsWith('!')) {
        await this.git(['update-ref', refs.remoteOwn, sha]);
        return { status: 'pushed', sha, branch };
      }
      // Rejected, or the remote's ref was being created by another push at the same moment.
      if (!(line.startsWith('!') && /non-fast-forward|fetch first|already exists|stale info|failed to update ref|cannot lock ref|failed to lock/.test(line))) {
        throw new RollcallError('git', `could not push ${branch} to ${remote}: ${(line.split('\t')[2] ?? '') || pushed.stderr.trim()}; check the remote's URL and credentials`);
      }
      // Another delivery pushed its commit of this approval first: theirs is the one (fetched next).
      await this.git(['update-ref', '-d', refs.own, sha], { okExitCodes: [0, 1, 128] });
    }
    throw new RollcallError('git', `could not push ${branch} to ${remote}: it kept changing (${PUSH_ATTEMPTS} attempts); it is retried with the next delivery`);
  }

  private async findPullRequest(branch: string): Promise<PullRequest | undefined> {
    const query = new URLSearchParams({ head: `${this.options.owner}:${branch}`, state: 'all', per_page: '1' });
    const reply = await this.api('GET', `/repos/${this.slug()}/pulls?${query.toString()}`);
    const list = parse(z.array(PullRequest), reply.body, 'the list of pull requests');
    return list[0];
  }

  /** Labels and auto-merge, for a pull request still open (again after a retry: both are idempotent). */
  private async finish(pull: PullRequest, sha: string, branch: string, existing: boolean): Promise<PullRequestResult> {
    const { labels = [], autoMerge = false, mergeMethod = 'MERGE' } = this.options;
    if (pull.state === 'open') {
      if (labels.length > 0) await this.api('POST', `/repos/${this.slug()}/issues/${pull.number}/labels`, { labels });
      if (autoMerge) {
        const query = 'mutation($id: ID!, $method: PullRequestMergeMethod!) { enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $method }) { pullRequest { number } } }';
        const reply = await this.api('POST', '/graphql', { query, variables: { id: pull.node_id, method: mergeMethod } });
        const errors = GraphqlReply.safeParse(reply.body).data?.errors ?? [];
        if (errors.length > 0) {
          throw new RollcallError('invalid-input', `GitHub did not turn on auto-merge for pull request #${pull.number}: ${errors.map((error) => error.message).join('; ')}; allow auto-merge in the repository's settings (and require a check or review), or turn autoMerge off`);
        }
      }
    }
    return { status: 'pull-request', sha, branch, number: pull.number, url: pull.html_url, existing };
  }

  private async body(event: ApprovalEvent, sha: string): Promise<string> {
    const message = (await this.git(['log', '-1', '--format=%B', sha])).text.trimEnd();
    const paragraphs = message.split('\n\n');
    const trailers = paragraphs.at(-1) ?? '';
    const form = paragraphs.length > 2 ? paragraphs.slice(1, -1).join('\n\n') : '';
    const plan = await this.options.planFor?.(sha);
    const sections = [`Approval \`${event.platform}/${event.approvalId}\`, committed by rollcall.`];
    if (form !== '') sections.push('### Form', fence(form, 'text'));
    sections.push('### Trailers', fence(trailers, 'text'));
    if (plan !== undefined && plan.trim() !== '') sections.push('### Plan', fence(plan.trimEnd(), 'diff'));
    return `${sections.join('\n\n')}\n`;
  }

  private slug(): string {
    return `${encodeURIComponent(this.options.owner)}/${encodeURIComponent(this.options.repo)}`;
  }

  /**
   * One REST (or GraphQL) call: the reply's status and JSON body. Secondary rate limits and server
   * errors are retried with backoff (Retry-After first); other refusals become RollcallErrors that
   * say what to fix, except the statuses in `allow`.
   */
  private async api(method: 'GET' | 'POST', route: string, payload?: unknown, allow: readonly number[] = []): Promise<{ status: number; body: unknown }> {
    const { apiUrl = 'https://api.github.com', token, maxRetries = 4, backoffMs = 1000, maxWaitMs = 60_000 } = this.options;
    const send = this.options.fetch ?? fetch;
    const url = `${apiUrl.replace(/\/+$/, '')}${route}`;
    const what = `${method} ${route.split('?')[0] ?? route}`;
    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      try {
        response = await send(url, {
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/vnd.github+json',
            'X-GitHub-Api-Version': '2022-11-28',
            'User-Agent': 'rollcall',
            ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}),
          },
          ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
          signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS),
        });
      } catch (error) {
        if (attempt < maxRetries) {
          await sleep(backoffMs * 2 ** attempt);
          continue;
        }
        throw new RollcallError('cloud-api', `could not reach GitHub at ${apiUrl} (${what}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Not JSON (a proxy's error page): kept as text for the message.
      }
      if (response.ok || allow.includes(response.status)) return { status: response.status, body };

      const wait = retryWait(response, body, attempt, backoffMs);
      if (wait !== undefined) {
        if (attempt < maxRetries && wait <= maxWaitMs) {
          this.options.logger?.warn({ status: response.status, waitMs: wait, call: what }, 'GitHub asked rollcall to slow down or failed: retrying');
          await sleep(wait);
          continue;
        }
      }
      throw this.failure(response.status, body, what, response.headers);
    }
  }

  private failure(status: number, body: unknown, what: string, headers?: Headers): RollcallError {
    const parsed = ErrorBody.safeParse(body);
    const details = [parsed.data?.message, ...(parsed.data?.errors ?? []).map((error) => error.message ?? error.code)].filter(Boolean).join('; ') || (typeof body === 'string' ? body.slice(0, 200) : '');
    const said = `GitHub answered ${status} to ${what}${details ? ` (${details})` : ''}`;
    const where = `${this.options.owner}/${this.options.repo}`;
    if (status === 401) return new RollcallError('invalid-input', `${said}: the token is wrong or expired; give rollcall a valid GitHub token`);
    if (headers?.get('x-ratelimit-remaining') === '0') {
      const reset = Number(headers.get('x-ratelimit-reset'));
      const until = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
      return new RollcallError('cloud-api', `${said}: the token's rate limit is used up${until}; the approval is retried with the next delivery`);
    }
    if (status === 429 || (status === 403 && /rate limit/i.test(details))) {
      return new RollcallError('cloud-api', `${said}: GitHub's rate limit; the approval is retried with the next delivery`);
    }
    if (status === 403) return new RollcallError('invalid-input', `${said}: the token may not do this in ${where}; give it pull requests: write and contents: write (and issues: write for labels)`);
    if (status === 404) return new RollcallError('invalid-input', `${said}: ${where} does not exist or the token cannot see it; check owner, repo and the token's repository access`);
    if (status === 422) return new RollcallError('invalid-input', `${said}: check that the base branch ${this.options.baseBranch} exists and the labels are valid`);
    if (status >= 500) return new RollcallError('cloud-api', `${said}: GitHub failed; the approval is retried with the next delivery`);
    return new RollcallError('cloud-api', said);
  }
}

/** How long to wait before retrying, or undefined when this answer is not worth retrying. */
function retryWait(response: Response, body: unknown, attempt: number, backoffMs: number): number | undefined {
  const retryAfter = Number(response.headers.get('retry-after'));
  const message = ErrorBody.safeParse(body).data?.message ?? '';
  const secondary = (response.status === 403 || response.status === 429) && (response.headers.has('retry-after') || /secondary rate limit/i.test(message));
  if (secondary && response.headers.get('x-ratelimit-remaining') !== '0') {
    return Number.isFinite(retryAfter) && response.headers.has('retry-after') ? retryAfter * 1000 : backoffMs * 2 ** attempt;
  }
  if (response.status >= 500) return backoffMs * 2 ** attempt;
  return undefined;
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new RollcallError('cloud-api', `GitHub's answer with ${what} is not what rollcall expects: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

/** `text` in a code block whose fence no line of it can close. */
function fence(text: string, language: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language}\n${text}\n${ticks}`;
}
