import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readPushHook } from '../../src/source/push-hook.js';

const SECRET = 'hook-secret';
const AFTER = 'eb63d0277e64684236ebf8394b919230c4b8a286';
const push = (ref: string) => Buffer.from(JSON.stringify({ object_kind: 'push', before: 'f2e2d577fab1562a6239b82721fd9827e05fdce6', after: AFTER, ref, commits: [] }));
const sign = (body: Buffer, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const options = { secret: SECRET, branch: 'main' };

describe('readPushHook: GitHub', () => {
  it('accepts a push signed with the secret', () => {
    const body = push('refs/heads/main');
    expect(readPushHook({ headers: { 'x-github-event': 'push', 'x-hub-signature-256': sign(body) }, body }, options)).toEqual({
      ok: true,
      provider: 'github',
      ref: 'refs/heads/main',
      after: AFTER,
      tracked: true,
    });
  });

  it('rejects a missing or wrong signature, and a body changed after signing', () => {
    const body = push('refs/heads/main');
    const missing = readPushHook({ headers: { 'x-github-event': 'push' }, body }, options);
    expect(missing).toEqual({ ok: false, status: 401, message: "the request has no X-Hub-Signature-256 header: set the GitHub webhook's secret to rollcall's push hook secret" });
    const wrong = readPushHook({ headers: { 'x-github-event': 'push', 'x-hub-signature-256': sign(body, 'other') }, body }, options);
    expect(wrong).toMatchObject({ ok: false, status: 401, message: expect.stringMatching(/^X-Hub-Signature-256 does not match the body/) });
    const changed = readPushHook({ headers: { 'x-github-event': 'push', 'x-hub-signature-256': sign(body) }, body: push('refs/heads/evil') }, options);
    expect(changed).toMatchObject({ ok: false, status: 401 });
    expect(readPushHook({ headers: { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=abc' }, body }, options)).toMatchObject({ ok: false, status: 401 });
  });

  it('answers a ping, and a push to another branch, with tracked false', () => {
    const ping = Buffer.from(JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 }));
    expect(readPushHook({ headers: { 'x-github-event': 'ping', 'x-hub-signature-256': sign(ping) }, body: ping }, options)).toEqual({ ok: true, provider: 'github', tracked: false });
    const other = push('refs/heads/feature');
    expect(readPushHook({ headers: { 'x-github-event': 'push', 'x-hub-signature-256': sign(other) }, body: other }, options)).toMatchObject({ ok: true, ref: 'refs/heads/feature', tracked: false });
  });

  it('reads a form-encoded payload, signed over the form', () => {
    const body = Buffer.from(`payload=${encodeURIComponent(push('refs/heads/main').toString())}`);
    const headers = { 'x-github-event': 'push', 'x-hub-signature-256': sign(body), 'content-type': 'application/x-www-form-urlencoded' };
    expect(readPushHook({ headers, body }, options)).toMatchObject({ ok: true, tracked: true });
  });
});

describe('readPushHook: GitLab and Codeup', () => {
  it('accepts the secret token as sent, and rejects a missing or wrong one', () => {
    const body = push('refs/heads/main');
    expect(readPushHook({ headers: { 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Token': SECRET }, body }, options)).toEqual({ ok: true, provider: 'gitlab', ref: 'refs/heads/main', after: AFTER, tracked: true });
    expect(readPushHook({ headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'hook-secreT' }, body }, options)).toEqual({
      ok: false,
      status: 401,
      message: "X-Gitlab-Token does not match: the GitLab webhook's secret token differs from rollcall's push hook secret",
    });
    expect(readPushHook({ headers: { 'x-gitlab-event': 'Push Hook' }, body }, options)).toMatchObject({ ok: false, status: 401, message: expect.stringMatching(/no X-Gitlab-Token header/) });

    expect(readPushHook({ headers: { 'codeup-event': 'Push Hook', 'x-codeup-token': SECRET }, body }, options)).toEqual({ ok: true, provider: 'codeup', ref: 'refs/heads/main', after: AFTER, tracked: true });
    expect(readPushHook({ headers: { 'x-codeup-event': 'Push Hook', 'x-codeup-token': SECRET }, body }, options)).toMatchObject({ ok: true, provider: 'codeup', tracked: true });
    expect(readPushHook({ headers: { 'codeup-event': 'Push Hook', 'x-codeup-token': 'wrong' }, body }, options)).toMatchObject({ ok: false, status: 401, message: expect.stringMatching(/^X-Codeup-Token does not match/) });
    expect(readPushHook({ headers: { 'codeup-event': 'Push Hook', 'x-codeup-token': [SECRET, SECRET] }, body }, options)).toMatchObject({ ok: false, status: 401 });
  });

  it('does not track tag pushes or other branches', () => {
    const tag = push('refs/tags/v1');
    expect(readPushHook({ headers: { 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': SECRET }, body: tag }, options)).toMatchObject({ ok: true, tracked: false });
    expect(readPushHook({ headers: { 'codeup-event': 'Push Hook', 'x-codeup-token': SECRET }, body: push('refs/heads/dev') }, options)).toMatchObject({ ok: true, tracked: false });
    expect(readPushHook({ headers: { 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': SECRET }, body: push('refs/heads/main') }, options)).toMatchObject({ ok: true, tracked: false });
  });
});

describe('readPushHook: anyone', () => {
  it('refuses a request without signature or token when a secret is set, and accepts it when none is', () => {
    const body = push('refs/heads/main');
    expect(readPushHook({ headers: {}, body }, options)).toMatchObject({ ok: false, status: 401, message: expect.stringMatching(/carries no signature/) });
    expect(readPushHook({ headers: {}, body }, { branch: 'main' })).toEqual({ ok: true, provider: 'unknown', ref: 'refs/heads/main', after: AFTER, tracked: true });
    expect(readPushHook({ headers: { 'x-github-event': 'push' }, body }, { branch: 'main' })).toMatchObject({ ok: true, provider: 'github', tracked: true });
  });

  it('is 400 for a body that is not a JSON object, after checking the signature', () => {
    const body = Buffer.from('{"ref": ');
    expect(readPushHook({ headers: { 'x-gitlab-token': SECRET }, body }, options)).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/^the body is not JSON/) });
    expect(readPushHook({ headers: { 'x-gitlab-token': 'wrong' }, body }, options)).toMatchObject({ ok: false, status: 401 });
    expect(readPushHook({ headers: {}, body: Buffer.from('[1]') }, { branch: 'main' })).toMatchObject({ ok: false, status: 400, message: 'the body is not a JSON object: send the push event as JSON' });
  });

  it('ignores fields of the wrong shape instead of trusting them', () => {
    const body = Buffer.from(JSON.stringify({ ref: 42, after: 'not-a-sha' }));
    expect(readPushHook({ headers: {}, body }, { branch: 'main' })).toEqual({ ok: true, provider: 'unknown', tracked: false });
  });
});
