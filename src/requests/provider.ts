import type { CommitApprovalResult } from './commit-request.js';
import type { ApprovalEvent, Request } from './types.js';

/**
 * Where an approved request goes: straight onto the tracked branch (`local`) or into a pull request
 * (`github`). A provider for GitLab or Codeup implements the same interface and joins
 * {@link providers} in `providers.ts`.
 */
export interface RequestProvider {
  /** The name approvals are configured with: `local`, `github`. */
  readonly name: string;
  /** Exactly once per approval id: a second submit of the same approval returns what the first made. */
  submit(event: ApprovalEvent, request: Request): Promise<SubmitResult>;
}

/** A pull request that carries one approval's branch. */
export interface PullRequestResult {
  status: 'pull-request';
  /** The approval's commit, the tip of `branch`. */
  sha: string;
  /** `rollcall/<platform>-<approval id>`. */
  branch: string;
  number: number;
  url: string;
  /** The pull request was opened before (by an earlier delivery of this approval). */
  existing: boolean;
}

/** What became of one approval. */
export type SubmitResult = CommitApprovalResult | PullRequestResult;
