import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GithubProvider, type GithubProviderOptions } from '../../src/requests/github-provider.js';
import type { ApprovalEvent, Request } from '../../src/requests/types.js';
import { DesiredRepository } from '../../src/source/desired-repository.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { startFakeGithub } from './fake-github.js';

const env = { ...process.env, GIT_COMMITTER_NAME: 'Rollcall', GIT_COMMITTER_EMAIL: 'rollcall@example.com' };
const TOKEN = 'ghs_test_token';

function approval(id: string): ApprovalEvent {
  return { platform: 'lark', approvalId: id, processCode: 'ONBOARD', requester: { id: 'ou_hr', name: 'Han Rui' }, approvers: [{ id: 'ou_boss', name: 'Bo Ss' }], form: { 工号: 'E2001', 账号: 'newbie' }, finishedAt: '2026-11-27T10:00:00Z' };
}
const onboard: Request = { kind: 'onboard', empId: 'E2001', login: 'newbie', role: 'devops', flow: 'lark/ONBOARD' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env });

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function setup() {
  const fixture = desiredStateRepo();
  const base = mkdtempSync(path.join(tmpdir(), 'rollcall-github-'));
  const origin = path.join(base, 'origin.git');
  git(base, 'clone', '-q', '--bare', fixture.repo, origin);
  const github = await startFakeGithub({ owner: 'acme', repo: 'access', token: TOKEN, originDir: origin });
  closers.push(github.close);
  let clones = 0;
  const provider = async (more: Partial<GithubProviderOptions> = {}) => {
    clones += 1;
    const repository = await DesiredRepository.open({ repo: `file://${origin}`, branch: 'main', workDir: path.join(base, `clone-${clones}`), env });
    return new GithubProvider({
      repoDir: repository.root, desiredPath: 'desired-state', owner: 'acme', repo: 'access', apiUrl: github.url, token: TOKEN, baseBranch: 'main', env, backoffMs: 1, ...more,
    });
  };
  return { origin, github, provider, origin$: (...args: string[]) => git(origin, ...args) };
}

describe('GithubProvider', () => {
  it('pushes the approval branch only and opens a pull request with the form, trailers and plan, labels and auto-merge', async () => {
    const { github, provider, origin$ } = await setup();
    const mainBefore = origin$('rev-parse', 'main').trim();
    const plans: string[] = [];
    const github$ = await provider({ labels: ['rollcall', 'access'], autoMerge: true, planFor: async (sha) => (plans.push(sha), '+ create user newbie (uid 20000) on web1\n```\n') });
    const result = await github$.submit(approval('INST-1'), onboard);
    expect(result).toMatchObject({ status: 'pull-request', branch: 'rollcall/lark-INST-1', number: 1, url: 'https://github.example/acme/access/pull/1', existing: false });
    if (result.status !== 'pull-request') return;
    expect(origin$('rev-parse', 'main').trim()).toBe(mainBefore);
    expect(origin$('rev-parse', 'rollcall/lark-INST-1').trim()).toBe(result.sha);
    expect(origin$('log', '-1', '--format=%P', result.sha).trim()).toBe(mainBefore);
    expect(plans).toEqual([result.sha]);

    const [pull] = github.pulls;
    expect(pull).toMatchObject({ title: 'Onboard E2001 (newbie)', head: 'rollcall/lark-INST-1', base: 'main', labels: ['rollcall', 'access'], autoMerge: 'MERGE' });
    expect(pull!.body).toBe(
      'Approval `lark/INST-1`, committed by rollcall.\n\n### Form\n\n```text\n工号: E2001\n账号: newbie\n```\n\n### Trailers\n\n```text\n' +
        'Approval: lark/INST-1\nRequested-by: Han Rui <lark:ou_hr>\nApproved-by: Bo Ss <lark:ou_boss>\nRequest: onboard\nFlow: lark/ONBOARD\n```\n\n' +
        '### Plan\n\n````diff\n+ create user newbie (uid 20000) on web1\n```\n````\n',
    );
    const graphql = github.requests.find((request) => request.path === '/graphql');
    expect(graphql?.body).toMatchObject({ variables: { id: 'PR_node1', method: 'MERGE' } });
    for (const request of github.requests) {
      expect(request.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'rollcall' });
    }
  });

  it('opens one pull request when one approval is submitted twice at once, and through a second rollcall', async () => {
    const { github, provider, origin$ } = await setup();
    const [first, second] = [await provider({ labels: ['rollcall'] }), await provider()];
    const results = await Promise.all([first.submit(approval('INST-2'), onboard), first.submit(approval('INST-2'), onboard), second.submit(approval('INST-2'), onboard)]);
    expect(github.pulls).toHaveLength(1);
    expect(results.map((result) => (result.status === 'pull-request' ? result.number : undefined))).toEqual([1, 1, 1]);
    expect(results.filter((result) => result.status === 'pull-request' && !result.existing)).toHaveLength(1);
    const shas = new Set(results.map((result) => (result.status === 'pull-request' ? result.sha : '')));
    expect([...shas]).toEqual([origin$('rev-parse', 'rollcall/lark-INST-2').trim()]);
    expect(github.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/pulls')).length).toBeGreaterThanOrEqual(1);
  });

  it('takes 422 "A pull request already exists" (opened between its look and its create) as the existing one', async () => {
    const { github, provider } = await setup();
    expect(await (await provider()).submit(approval('INST-3'), onboard)).toMatchObject({ number: 1, existing: false });
    let hidden = false;
    // The list misses it once, as when another delivery opens it just after this one looked.
    github.intercept((request) => (request.method === 'GET' && !hidden ? ((hidden = true), { status: 200, body: [] }) : undefined));
    const again = await (await provider()).submit(approval('INST-3'), onboard);
    expect(again).toMatchObject({ status: 'pull-request', number: 1, existing: true });
    expect(github.pulls).toHaveLength(1);
    expect(github.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/pulls'))).toHaveLength(2);
  });

  it('waits out a secondary rate limit and tries again', async () => {
    const { github, provider } = await setup();
    let limited = 0;
    github.intercept((request) =>
      request.method === 'POST' && limited++ === 0 ? { status: 403, headers: { 'retry-after': '0' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' } } : undefined,
    );
    expect(await (await provider()).submit(approval('INST-4'), onboard)).toMatchObject({ status: 'pull-request', number: 1 });
    expect(github.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/pulls'))).toHaveLength(2);
  });

  it('retries a server error, and gives up with a retryable error when it persists', async () => {
    const { github, provider } = await setup();
    let failures = 0;
    github.intercept((request) => (request.method === 'GET' && failures++ < 2 ? { status: 502, body: { message: 'Server Error' } } : undefined));
    expect(await (await provider()).submit(approval('INST-10'), onboard)).toMatchObject({ status: 'pull-request', number: 1 });
    github.intercept(() => ({ status: 503, body: 'upstream unavailable' }));
    await expect((await provider({ maxRetries: 1 })).submit(approval('INST-11'), onboard)).rejects.toMatchObject({ code: 'cloud-api', retryable: true, message: expect.stringMatching(/GitHub answered 503 .*upstream unavailable/) });
  });

  it('says what to fix: a bad token, a repository it cannot see, a used-up rate limit', async () => {
    const { github, provider } = await setup();
    await expect((await provider({ token: 'wrong' })).submit(approval('INST-5'), onboard)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/GitHub answered 401 .*Bad credentials.*the token is wrong or expired/) });
    await expect((await provider({ repo: 'nope' })).submit(approval('INST-6'), onboard)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/404 .*acme\/nope does not exist or the token cannot see it/) });
    github.intercept(() => ({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1800000000' }, body: { message: 'API rate limit exceeded for installation.' } }));
    await expect((await provider()).submit(approval('INST-7'), onboard)).rejects.toMatchObject({ code: 'cloud-api', message: expect.stringMatching(/rate limit is used up until 2027-01-15T08:00:00.000Z/) });
  });

  it('makes no branch and no pull request for a request that does not apply, and none again for one merged already', async () => {
    const { github, provider, origin$ } = await setup();
    expect(await (await provider()).submit(approval('INST-8'), { ...onboard, empId: 'E1001' })).toMatchObject({ status: 'refused' });
    expect(origin$('for-each-ref', 'refs/heads/rollcall/').trim()).toBe('');
    // Merged: the base branch carries the commit and the approval branch was deleted after the merge.
    const opened = await (await provider()).submit(approval('INST-9'), onboard);
    if (opened.status !== 'pull-request') throw new Error('expected a pull request');
    origin$('update-ref', 'refs/heads/main', opened.sha);
    origin$('update-ref', '-d', 'refs/heads/rollcall/lark-INST-9');
    const requests = github.requests.length;
    expect(await (await provider()).submit(approval('INST-9'), onboard)).toEqual({ status: 'existing', sha: opened.sha, branch: 'rollcall/lark-INST-9' });
    expect(github.requests.length).toBe(requests);
  });
});
