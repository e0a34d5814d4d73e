import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseObservedState, type ParseObservedStateResult } from '../../src/plan/observed-state.js';

const FILE = 'observed.json';

/** JSON text from lines, so that a test reads line numbers off its own source. */
function jsonLines(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function problemsOf(result: ParseObservedStateResult) {
  if (result.ok) throw new Error('expected problems, but the snapshot parsed');
  return result.problems;
}

/** A snapshot of one instance with `users`, one user per line from line 5 on. */
function withUsers(...users: string[]): string {
  return jsonLines(
    '{',
    '  "instances": {',
    '    "i-web1": {',
    '      "users": [',
    ...users.map((line, index) => `        ${line}${index < users.length - 1 ? ',' : ''}`),
    '      ]',
    '    }',
    '  }',
    '}',
  );
}

const ALICE_FIELDS =
  '"login": "alice", "uid": 20001, "gid": 20001, "name": "Alice", "home": "/home/alice", "groups": ["dev"], "sshKeys": [], "locked": false, "expires": null, "managed": true';

describe('parseObservedState', () => {
  it('parses the example snapshot', async () => {
    const text = await readFile(new URL('../fixtures/observed.json', import.meta.url), 'utf8');
    const result = parseObservedState('test/fixtures/observed.json', text);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(Object.keys(result.observed.instances)).toEqual(['i-bp1web0000001', 'i-bp1web0000002', 'i-bp1db0000001', 'i-bp1old0000009']);
    const web1 = result.observed.instances['i-bp1web0000001']!;
    expect(web1.tags).toEqual({ app: 'web', env: 'prod' });
    expect(web1.users.find((user) => user.login === 'zhangsan')).toEqual({
      login: 'zhangsan',
      uid: 20001,
      gid: 20001,
      name: 'Zhang San',
      home: '/home/zhangsan',
      shell: '/bin/bash',
      groups: ['devops', 'docker'],
      sshKeys: ['sha256:0274a9957b430fdbe0ef34032a7fbfef1e92ed285434ba5be47929802a576ed8'],
      locked: false,
      expires: null,
      managed: true,
    });
    expect(web1.users.find((user) => user.login === 'root')).toEqual({ login: 'root', uid: 0, managed: false });
    expect(web1.groups.find((group) => group.name === 'devops')).toEqual({ name: 'devops', gid: 3001, members: ['zhangsan', 'lisi'], managed: true });
  });

  it('fills in what an instance may leave out: tags, users, groups, sudoers, members', () => {
    const text = jsonLines('{ "instances": { "i-web1": {}, "i-web2": { "groups": [{ "name": "dev", "gid": 3001, "managed": true }] } } }');
    expect(parseObservedState(FILE, text)).toEqual({
      ok: true,
      observed: {
        instances: {
          'i-web1': { tags: {}, users: [], groups: [], sudoers: {} },
          'i-web2': { tags: {}, users: [], groups: [{ name: 'dev', gid: 3001, members: [], managed: true }], sudoers: {} },
        },
      },
    });
  });

  it('accepts an unmanaged user with only login, uid and managed', () => {
    const result = parseObservedState(FILE, withUsers('{ "login": "admin", "uid": 1000, "managed": false }'));
    expect(result).toEqual({
      ok: true,
      observed: { instances: { 'i-web1': { tags: {}, users: [{ login: 'admin', uid: 1000, managed: false }], groups: [], sudoers: {} } } },
    });
  });

  it('reports JSON that does not parse with its line and column', () => {
    const text = jsonLines(
      '{',
      '  "instances": {',
      '    "i-web1": { "tags": {} }',
      '    "i-web2": {}',
      '  }',
      '}',
    );
    expect(problemsOf(parseObservedState(FILE, text))).toEqual([
      { file: FILE, line: 4, col: 5, message: expect.stringMatching(/^not valid JSON: /) },
    ]);
  });

  it('reports an unexpected token at its line and column (Node 20 does not say where)', () => {
    // Node 20's JSON.parse says `Unexpected token 'x', ..."i-web1": x ..." is not valid JSON`,
    // without "at position N", so jsonErrorPosition (src/plan/observed-state.ts) falls back to 1:1.
    const text = jsonLines(
      '{',
      '  "instances": {',
      '    "i-web1": x',
      '  }',
      '}',
    );
    expect(problemsOf(parseObservedState(FILE, text))).toEqual([
      { file: FILE, line: 3, col: 15, message: expect.stringMatching(/^not valid JSON: /) },
    ]);
  });

  it('reports a managed user that lacks shell, naming the field, on the line of that user', () => {
    const text = withUsers('{ "login": "root", "uid": 0, "managed": false }', `{ ${ALICE_FIELDS} }`);
    expect(problemsOf(parseObservedState(FILE, text))).toEqual([
      { file: FILE, line: 6, col: 9, message: 'instances.i-web1.users[1].shell: missing: a managed user must report shell' },
    ]);
  });

  it.each(['gid', 'home', 'groups', 'sshKeys', 'locked', 'expires'])('reports a managed user that lacks %s', (field) => {
    const fields = `${ALICE_FIELDS}, "shell": "/bin/bash"`.replace(new RegExp(`"${field}": (\\[[^\\]]*\\]|"[^"]*"|[^,]+), `), '');
    expect(fields).not.toContain(`"${field}"`);
    expect(problemsOf(parseObservedState(FILE, withUsers(`{ ${fields} }`)))).toEqual([
      { file: FILE, line: 5, col: 9, message: `instances.i-web1.users[0].${field}: missing: a managed user must report ${field}` },
    ]);
  });

  it('reports a managed user that lacks name (GECOS)', () => {
    // The managed-user check lists every attribute but name: without it the planner never sees a
    // changed GECOS on rollcall's own accounts (diffUser skips attributes the snapshot leaves out).
    const fields = `${ALICE_FIELDS}, "shell": "/bin/bash"`.replace('"name": "Alice", ', '');
    expect(problemsOf(parseObservedState(FILE, withUsers(`{ ${fields} }`)))).toEqual([
      { file: FILE, line: 5, col: 9, message: 'instances.i-web1.users[0].name: missing: a managed user must report name' },
    ]);
  });

  it('reports an unknown field at its key, with the fields allowed there', () => {
    const text = withUsers('{ "login": "admin", "uid": 1000, "managed": false, "password": "!" }');
    expect(problemsOf(parseObservedState(FILE, text))).toEqual([
      { file: FILE, line: 5, col: 60, message: expect.stringMatching(/^instances\.i-web1\.users\[0\]\.password: unknown field \(allowed here: login, uid, .*managed\)$/) },
    ]);
  });

  it('reports an unknown field of an instance', () => {
    const text = jsonLines('{', '  "instances": {', '    "i-web1": { "tag": { "app": "web" } }', '  }', '}');
    expect(problemsOf(parseObservedState(FILE, text))).toEqual([
      { file: FILE, line: 3, col: 17, message: expect.stringMatching(/^instances\.i-web1\.tag: unknown field/) },
    ]);
  });

  it('reports every problem at once, each at its line', () => {
    const text = jsonLines(
      '{',
      '  "instances": {',
      '    "web1": {},',
      '    "i-web1": { "users": [{ "login": "bob", "uid": -1, "managed": false }] },',
      '    "i-web2": { "users": [{ "login": "eve", "uid": 20003, "expires": "31/12/2026", "managed": false }] }',
      '  }',
      '}',
    );
    expect(problemsOf(parseObservedState(FILE, text))).toEqual([
      { file: FILE, line: 3, col: expect.any(Number), message: expect.stringMatching(/^instances\.web1: /) },
      { file: FILE, line: 4, col: 52, message: expect.stringMatching(/^instances\.i-web1\.users\[0\]\.uid: /) },
      { file: FILE, line: 5, col: 70, message: 'instances.i-web2.users[0].expires: must be a date written YYYY-MM-DD, like 2027-01-31' },
    ]);
  });

  it('says what is wrong with a key that is not an instance id', () => {
    // zod reports a record key that fails its schema as one `invalid_key` issue, "Invalid key in
    // record", with the key schema's own message nested in `issues`; YamlFile.issueProblems
    // (src/desired/yaml-file.ts) prints the outer message, so "must be an instance id" is lost.
    const text = jsonLines('{', '  "instances": {', '    "web1": {}', '  }', '}');
    expect(problemsOf(parseObservedState(FILE, text))).toEqual([
      { file: FILE, line: 3, col: expect.any(Number), message: expect.stringContaining('must be an instance id like i-bp1web0000001') },
    ]);
  });
});
