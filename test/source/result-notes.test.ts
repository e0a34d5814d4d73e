import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RollcallError } from '../../src/config/errors.js';
import {
  formatChange,
  NOTES_REF,
  parseChange,
  parseResultNote,
  renderResultNote,
  ResultNotes,
  type ResultRecord,
} from '../../src/source/result-notes.js';
import { desiredStateRepo } from '../cli/git-fixture.js';

const NO_IDENTITY = {};

function record(attempt: string, fields: Partial<ResultRecord> = {}): ResultRecord {
  return {
    attempt,
    at: '2025-06-01T08:00:00.000Z',
    trigger: 'revision',
    generation: 7,
    outcome: 'applied',
    durationMs: 5300,
    instances: {
      'i-web2': {
        status: 'failed',
        changes: [{ action: 'update', kind: 'user', name: 'lisi', fields: ['groups', 'shell'] }],
        exitCode: 1,
        durationMs: 900,
        error: 'usermod: group docker does not exist',
      },
      'i-web1': {
        status: 'applied',
        changes: [
          { action: 'create', kind: 'group', name: 'zhangsan' },
          { action: 'create', kind: 'user', name: 'zhangsan' },
        ],
        exitCode: 0,
        durationMs: 800,
      },
    },
    ...fields,
  };
}

/** A commit on the current branch; its sha. */
function commit(git: (...args: string[]) => string, message: string): string {
  git('commit', '-q', '--allow-empty', '-m', message);
  return git('rev-parse', 'HEAD').trim();
}

function gitIn(dir: string) {
  return (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' },
    });
}

describe('formatChange and parseChange', () => {
  it('write and read one line per change', () => {
    expect(formatChange({ action: 'create', kind: 'user', name: 'zhangsan' })).toBe('create user zhangsan');
    expect(formatChange({ action: 'update', kind: 'user', name: 'lisi', fields: ['groups', 'shell'] })).toBe('update user lisi (groups, shell)');
    expect(formatChange({ action: 'delete', kind: 'sudoers', name: 'rollcall-devops', fields: [] })).toBe('delete sudoers rollcall-devops');
    expect(parseChange('update user lisi (groups, shell)')).toEqual({ action: 'update', kind: 'user', name: 'lisi', fields: ['groups', 'shell'] });
    expect(parseChange('  lock   user  wangwu ')).toEqual({ action: 'lock', kind: 'user', name: 'wangwu' });
    expect(parseChange('update group devops ()')).toEqual({ action: 'update', kind: 'group', name: 'devops' });
  });

  it('reads nothing else', () => {
    for (const text of ['', 'create', 'create user', 'rename user a', 'create host web1', 'create user two words', 'update user lisi (groups', 'update user lisi (a) (b)']) {
      expect(parseChange(text), text).toBeUndefined();
    }
  });
});

describe('renderResultNote and parseResultNote', () => {
  it('round-trip records, as one YAML list under a header comment', () => {
    const records = [record('a1'), record('a2', { trigger: 'drift', outcome: 'no-changes', instances: {} })];
    const text = renderResultNote(records);
    expect(text.split('\n')[0]).toBe('# rollcall: results of applying this commit (newest last)');
    expect(parse(text)).toHaveLength(2);
    expect(parseResultNote(text)).toEqual({ records, problems: [] });
  });

  it('sorts instances, writes changes as lines and leaves empty fields out', () => {
    const text = renderResultNote([
      record('a1', {
        instances: { 'i-b': { status: 'unchanged', changes: [] }, 'i-a': { status: 'applied', changes: [{ action: 'update', kind: 'user', name: 'lisi', fields: ['shell'] }], error: '' } },
      }),
      record('a2', { instances: {} }),
    ]);
    expect(text).toMatchInlineSnapshot(`
      "# rollcall: results of applying this commit (newest last)
      - attempt: a1
        at: 2025-06-01T08:00:00.000Z
        trigger: revision
        generation: 7
        outcome: applied
        durationMs: 5300
        instances:
          i-a:
            status: applied
            changes:
              - update user lisi (shell)
          i-b:
            status: unchanged

      - attempt: a2
        at: 2025-06-01T08:00:00.000Z
        trigger: revision
        generation: 7
        outcome: applied
        durationMs: 5300
      "
    `);
  });

  it('reads a note edited by hand: foreign paragraphs and broken items are skipped, with problems', () => {
    const lines = [
      ...renderResultNote([record('a1')]).trimEnd().split('\n'),
      '',
      'Checked by ops on Monday: i-web2 was in maintenance.',
      '',
      '- attempt: a2',
      '  at: 2025-06-02T08:00:00Z',
      '  trigger: sideways',
      '',
      '- attempt: 17',
      '  at: 2025-06-03T08:00:00Z',
      '  trigger: drift',
      '  generation: 8',
      '  outcome: applied',
      '  durationMs: 10',
      '  instances:',
      '    i-web1: { status: applied, changes: [create user zhangsan, rename user x] }',
      '    i-web2: { status: exploded }',
      '- [unclosed',
    ];
    const lineOf = (start: string) => lines.findIndex((line) => line.startsWith(start)) + 1;
    const { records, problems } = parseResultNote(lines.join('\n'));
    expect(records.map((r) => r.attempt)).toEqual(['a1', '17']);
    expect(records[1]?.instances).toEqual({ 'i-web1': { status: 'applied', changes: [{ action: 'create', kind: 'user', name: 'zhangsan' }] } });
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^line ${lineOf('Checked')}: not a rollcall record \\(attempt: must be a non-empty string; `)),
      expect.stringMatching(new RegExp(`^line ${lineOf('- attempt: a2')}: not a rollcall record \\(trigger: `)),
      `line ${lineOf('- attempt: 17')}: record 17: instance i-web1: change "rename user x" skipped (expected like "update user lisi (groups, shell)")`,
      expect.stringMatching(new RegExp(`^line ${lineOf('- attempt: 17')}: record 17: instance i-web2 skipped \\(status: `)),
      expect.stringMatching(new RegExp(`^line ${lineOf('- [unclosed')}: not a rollcall record \\(YAML: `)),
    ]);
  });

  it('never throws on a note that is not rollcall’s', () => {
    for (const text of ['', '\n\n', 'just a sentence', '{{{', 'a: [', '- 1\n- two', '&a [*a]', '--- x\n--- y', '\u0000\u0001 binary', 'key: value\nother: 2']) {
      expect(() => parseResultNote(text), text).not.toThrow();
      expect(parseResultNote(text).records).toEqual([]);
    }
  });
});

describe('ResultNotes', () => {
  it('reads [] from a commit without a note, and a RollcallError for an unknown commit', async () => {
    const { repo, git } = desiredStateRepo();
    const notes = new ResultNotes(repo, NO_IDENTITY);
    expect(await notes.read(git('rev-parse', 'HEAD').trim())).toEqual([]);
    expect(await notes.all()).toEqual(new Map());
    const error = await notes.read('0123456789abcdef0123456789abcdef01234567').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollcallError);
    expect((error as RollcallError).code).toBe('git');
  });

  it('appends a record once per attempt', async () => {
    const { repo, git } = desiredStateRepo();
    const sha = git('rev-parse', 'HEAD').trim();
    const notes = new ResultNotes(repo, NO_IDENTITY);
    expect(await notes.append(sha, record('a1'))).toBe(true);
    expect(await notes.append(sha, record('a1', { outcome: 'failed' }))).toBe(false);
    expect(await notes.read(sha)).toEqual([record('a1')]);
    expect(git('rev-list', '--count', NOTES_REF).trim()).toBe('1');
  });

  it('keeps several records on one commit, readable in git log --notes=rollcall', async () => {
    const { repo, git } = desiredStateRepo();
    const sha = git('rev-parse', 'HEAD').trim();
    const notes = new ResultNotes(repo, NO_IDENTITY);
    await notes.append(sha, record('a1'));
    await notes.append(sha, record('a2', { at: '2025-06-01T09:00:00.000Z', trigger: 'drift', instances: { 'i-web1': { status: 'applied', changes: [{ action: 'update', kind: 'user', name: 'zhangsan', fields: ['shell'] }] } } }));
    expect((await notes.read(sha)).map((r) => r.attempt)).toEqual(['a1', 'a2']);
    const log = git('log', '--notes=rollcall', '-1', sha);
    expect(log).toContain('Notes (rollcall):\n    # rollcall: results of applying this commit (newest last)\n    - attempt: a1\n');
    expect(log).toContain('\n    - attempt: a2\n      at: 2025-06-01T09:00:00.000Z\n      trigger: drift\n');
    expect(log).toContain('\n            - update user lisi (groups, shell)\n');
    expect(log).toContain('\n            - update user zhangsan (shell)\n');
    expect(log).toContain('\n          error: "usermod: group docker does not exist"\n');
  });

  it('serializes concurrent appends', async () => {
    const { repo, git } = desiredStateRepo();
    const sha = git('rev-parse', 'HEAD').trim();
    const notes = new ResultNotes(repo, NO_IDENTITY);
    const attempts = ['a1', 'a2', 'a3', 'a4', 'a5', 'a1'];
    const written = await Promise.all(attempts.map((attempt) => notes.append(sha, record(attempt))));
    expect(written).toEqual([true, true, true, true, true, false]);
    expect((await notes.read(sha)).map((r) => r.attempt)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
  });

  it('keeps text someone added to a note, commented out, through every rewrite', async () => {
    const { repo, git } = desiredStateRepo();
    const sha = git('rev-parse', 'HEAD').trim();
    const notes = new ResultNotes(repo, NO_IDENTITY);
    await notes.append(sha, record('a1'));
    git('notes', '--ref=rollcall', 'append', '-m', 'Checked by ops on Monday.\nAll fine.', sha);
    await notes.append(sha, record('a2'));
    await notes.append(sha, record('a3'));
    const text = git('notes', '--ref=rollcall', 'show', sha);
    expect(text).toContain('\n# Kept as written (not rollcall records):\n# Checked by ops on Monday.\n# All fine.\n');
    expect(parseResultNote(text)).toEqual({ records: [record('a1'), record('a2'), record('a3')], problems: [] });
  });

  it('writes notes as Rollcall unless the environment names a committer', async () => {
    const { repo, git } = desiredStateRepo();
    const sha = git('rev-parse', 'HEAD').trim();
    await new ResultNotes(repo, NO_IDENTITY).append(sha, record('a1'));
    expect(git('log', '-1', '--format=%an <%ae>|%cn <%ce>', NOTES_REF).trim()).toBe('Rollcall <rollcall@localhost>|Rollcall <rollcall@localhost>');
    await new ResultNotes(repo, { GIT_COMMITTER_NAME: 'Ops Bot', GIT_COMMITTER_EMAIL: 'ops@example.com' }).append(sha, record('a2'));
    expect(git('log', '-1', '--format=%cn <%ce>', NOTES_REF).trim()).toBe('Ops Bot <ops@example.com>');
    expect(git('config', '--local', '--list')).not.toMatch(/^user\./m);
  }, 20_000);

  it('reads every note at once, fast, including a fanned-out notes tree', async () => {
    const { repo, git } = desiredStateRepo();
    const count = 300;
    // One fast-import for 300 commits and their notes: 300 `git notes add` would take seconds.
    const parts: string[] = [];
    const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
    for (let i = 1; i <= count; i++) {
      parts.push(`commit refs/heads/many\nmark :${i}\ncommitter Test <test@example.com> ${1_700_000_000 + i} +0000\n${data(`c${i}`)}`);
    }
    parts.push(`commit ${NOTES_REF}\ncommitter Test <test@example.com> 1700001000 +0000\n${data('notes')}`);
    for (let i = 1; i <= count; i++) parts.push(`N inline :${i}\n${data(renderResultNote([record(`n${i}`)]))}`);
    execFileSync('git', ['fast-import', '--quiet'], { cwd: repo, input: parts.join('') });
    expect(git('ls-tree', NOTES_REF).includes('\ttree') || git('ls-tree', NOTES_REF).includes(' tree ')).toBe(true);
    const subjects = new Map(git('log', '--format=%H %s', 'many').trim().split('\n').map((line) => [line.slice(0, 40), line.slice(41)] as const));

    const started = performance.now();
    const all = await new ResultNotes(repo, NO_IDENTITY).all();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(all.size).toBe(count);
    for (const [sha, records] of all) {
      expect(records, sha).toEqual([record(`n${subjects.get(sha)?.slice(1)}`)]);
    }
  });

  describe('lastApplied', () => {
    it('is the newest first-parent commit whose note has an applied revision or break-glass record', async () => {
      const { repo, git } = desiredStateRepo();
      const notes = new ResultNotes(repo, NO_IDENTITY);
      const c1 = commit(git, 'c1');
      await notes.append(c1, record('c1-a', { outcome: 'applied', at: '2025-06-01T08:00:00.000Z' }));
      await notes.append(c1, record('c1-b', { outcome: 'no-changes', at: '2025-06-01T09:00:00.000Z' }));
      await notes.append(c1, record('c1-drift', { trigger: 'drift', at: '2025-06-01T10:00:00.000Z' }));
      const c2 = commit(git, 'c2');
      await notes.append(c2, record('c2-drift', { trigger: 'drift', outcome: 'applied' }));
      await notes.append(c2, record('c2-new', { trigger: 'new-instance', outcome: 'applied' }));
      const c3 = commit(git, 'c3');
      await notes.append(c3, record('c3-failed', { outcome: 'failed' }));
      await notes.append(c3, record('c3-detected', { outcome: 'drift-detected' }));
      git('checkout', '-q', '-b', 'side');
      const side = commit(git, 'side');
      await notes.append(side, record('side-a'));
      git('checkout', '-q', 'main');
      commit(git, 'c4');
      git('merge', '-q', '--no-ff', '-m', 'merge side', 'side');

      const last = await notes.lastApplied('HEAD');
      expect(last?.sha).toBe(c1);
      expect(last?.record.attempt).toBe('c1-b');
      expect(await notes.lastApplied('HEAD', 4)).toBeUndefined();
      expect((await notes.lastApplied('side'))?.sha).toBe(side);

      const glass = commit(git, 'lock now');
      await notes.append(glass, record('glass', { trigger: 'break-glass' }));
      expect((await notes.lastApplied('main'))?.sha).toBe(glass);
    });

    it('is undefined without notes', async () => {
      const { repo } = desiredStateRepo();
      expect(await new ResultNotes(repo, NO_IDENTITY).lastApplied('HEAD')).toBeUndefined();
    });
  });

  describe('push', () => {
    function withRemote() {
      const bare = mkdtempSync(path.join(tmpdir(), 'rollcall-remote-'));
      execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
      const first = desiredStateRepo();
      first.git('remote', 'add', 'origin', bare);
      const c1 = first.git('rev-parse', 'HEAD').trim();
      const c2 = commit(first.git, 'c2');
      first.git('push', '-q', 'origin', 'main');
      const secondDir = mkdtempSync(path.join(tmpdir(), 'rollcall-clone-'));
      execFileSync('git', ['clone', '-q', bare, secondDir]);
      return { bare, first, second: { repo: secondDir, git: gitIn(secondDir) }, c1, c2 };
    }

    it('is false without that remote', async () => {
      const { repo, git } = desiredStateRepo();
      const notes = new ResultNotes(repo, NO_IDENTITY);
      await notes.append(git('rev-parse', 'HEAD').trim(), record('a1'));
      expect(await notes.push()).toBe(false);
      expect(await notes.push('upstream')).toBe(false);
    });

    it('pushes the notes to a bare remote', async () => {
      const { bare, first, c1 } = withRemote();
      const notes = new ResultNotes(first.repo, NO_IDENTITY);
      expect(await notes.push()).toBe(true); // no notes yet: nothing to do
      await notes.append(c1, record('a1'));
      expect(await notes.push()).toBe(true);
      expect(await new ResultNotes(bare, NO_IDENTITY).all()).toEqual(new Map([[c1, [record('a1')]]]));
    });

    it('merges the notes another rollcall pushed first, keeping both', async () => {
      const { bare, first, second, c1, c2 } = withRemote();
      const ours = new ResultNotes(first.repo, NO_IDENTITY);
      const theirs = new ResultNotes(second.repo, NO_IDENTITY);
      await theirs.append(c2, record('theirs-c2'));
      await theirs.append(c1, record('theirs-c1', { at: '2025-06-01T07:00:00.000Z' }));
      expect(await theirs.push()).toBe(true);

      await ours.append(c1, record('ours-c1'));
      expect(await ours.push()).toBe(true);

      const remote = await new ResultNotes(bare, NO_IDENTITY).all();
      expect(remote.get(c2)?.map((r) => r.attempt)).toEqual(['theirs-c2']);
      expect(remote.get(c1)?.map((r) => r.attempt)).toEqual(['theirs-c1', 'ours-c1']);
      expect(first.git('for-each-ref', 'refs/notes/').trim().split('\n')).toHaveLength(1);
      // The other rollcall can push on top again.
      await theirs.append(c2, record('theirs-c2-again'));
      expect(await theirs.push()).toBe(true);
      expect((await new ResultNotes(bare, NO_IDENTITY).read(c1)).map((r) => r.attempt)).toEqual(['theirs-c1', 'ours-c1']);
    });
  });
});
