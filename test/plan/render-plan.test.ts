import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/desired/load-desired-state.js';
import { plan } from '../../src/plan/build-plan.js';
import { parseObservedState } from '../../src/plan/observed-state.js';
import { render, shortRevision } from '../../src/plan/render-plan.js';
import type { Plan } from '../../src/plan/types.js';
import {
  desiredState,
  fingerprint,
  group,
  instance,
  KEY_A,
  KEY_B,
  lockedUser,
  managedUser,
  observedState,
  role,
  sudoersFile,
  TODAY,
  unmanagedUser,
  user,
} from './plan-inputs.js';

// Rendered text is the one place snapshots are allowed (STYLE.md): these pin the layout a person reads.

const REVISION = '3f2a9c1e7b5d4a60e8f1c2b3a4d5e6f708192a3b';
const RULE = 'ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx';
const DEV = role('dev', [{ name: 'dev', gid: 3001 }], { sudo: [RULE] });
const ALICE = user('alice', 20001, { name: 'Alice', roles: ['dev'], sshKeys: [KEY_A] });

/** The example desired-state/ against test/fixtures/observed.json, on 2026-11-27 (Asia/Shanghai). */
async function examplePlan(): Promise<Plan> {
  const loaded = await loadDesiredState(fileURLToPath(new URL('../../desired-state', import.meta.url)));
  if (!loaded.ok) throw new Error(`desired-state/ does not load: ${JSON.stringify(loaded.problems)}`);
  const text = await readFile(new URL('../fixtures/observed.json', import.meta.url), 'utf8');
  const observed = parseObservedState('test/fixtures/observed.json', text);
  if (!observed.ok) throw new Error(`observed.json does not parse: ${JSON.stringify(observed.problems)}`);
  // The revision of a working tree is a hash of its files; pin it so that the snapshot shows a commit.
  const desired = { ...loaded.desired, revision: REVISION };
  return plan(desired, observed.observed, desired.fleet.policy, new Date('2026-11-27T04:00:00Z'));
}

describe('render', () => {
  it('renders the example desired state against the example snapshot', async () => {
    expect(render(await examplePlan(), { color: false })).toMatchSnapshot();
  });

  it('renders a plan without changes', () => {
    const desired = desiredState({ roles: [DEV], users: [ALICE] });
    const observed = observedState({
      'i-web1': instance({ groups: [group('dev', 3001)], sudoers: { 'rollcall-dev': sudoersFile('dev', 'dev', [RULE]) }, users: [managedUser(ALICE, ['dev'])] }),
    });
    expect(render(plan({ ...desired, revision: REVISION }, observed, desired.fleet.policy, TODAY))).toMatchInlineSnapshot(`
      "rollcall plan for revision 3f2a9c1e7b5d

      No changes. The fleet matches the desired state.

      Plan: 0 to create, 0 to update, 0 to lock, 0 to delete.
      "
    `);
  });

  it('renders every kind of entry', () => {
    const bob = user('bob', 20002, { name: 'Bob "B"', roles: ['dev'], sshKeys: [KEY_B], expires: '2027-03-01' });
    const carol = user('carol', 20003, { roles: ['dev'], adopt: true });
    const desired = desiredState({ roles: [DEV], users: [ALICE, bob, carol], policy: { maxDeletions: 5 } });
    const observed = observedState({
      'i-web1': instance({
        groups: [group('dev', 3009), group('legacy', 3099)],
        sudoers: { 'rollcall-dev': `%dev ALL=(ALL) ALL\n%dev ${RULE}\n`, 'rollcall-legacy': '%legacy ALL=(ALL) ALL\n' },
        users: [
          managedUser(ALICE, ['dev'], { name: 'Alice Old', shell: '/bin/sh', sshKeys: [fingerprint(KEY_B)], expires: '2026-12-31' }),
          unmanagedUser('carol', 1500),
          managedUser(user('dave', 20004, { sshKeys: [KEY_B] }), ['dev', 'legacy']),
          lockedUser(user('erin', 20005), { locked: false }),
        ],
      }),
      'i-web2': instance({ users: [lockedUser(ALICE)] }),
    });
    expect(render(plan({ ...desired, revision: REVISION }, observed, desired.fleet.policy, TODAY))).toMatchInlineSnapshot(`
      "rollcall plan for revision 3f2a9c1e7b5d

        # i-web1
        ~ group dev
            gid: 3009 -> 3001
        - group legacy
        ~ sudoers rollcall-dev
            - %dev ALL=(ALL) ALL
            + # Managed by rollcall (role dev); edits here are overwritten.
              %dev ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx
        - sudoers rollcall-legacy
        ~ user alice
            name:    "Alice Old" -> "Alice"
            shell:   /bin/sh -> /bin/bash
            sshKeys: [sha256:c477d54e…] -> [ssh-ed25519 …N26bQsz1 alice@laptop]
            expires: 2026-12-31 -> null
        + user bob
            uid:     20002
            name:    "Bob \\"B\\""
            shell:   /bin/bash
            groups:  [dev]
            sshKeys: [ssh-ed25519 …/20AkJuT bob@laptop]
            expires: 2027-03-01
        ~ user carol (adopt: rollcall takes over this account)
            uid: 1500 -> 20003
        ! user dave
            groups:  [dev, legacy] -> []
            sshKeys: [sha256:c477d54e…] -> []
            locked:  false -> true
            expires: null -> 1970-01-01
        ! user erin
            locked: false -> true

        # i-web2
        + group dev (gid 3001)
        + sudoers rollcall-dev
            + # Managed by rollcall (role dev); edits here are overwritten.
            + %dev ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx
        ~ user alice
            groups:  [] -> [dev]
            sshKeys: [] -> [ssh-ed25519 …N26bQsz1 alice@laptop]
            locked:  true -> false
            expires: 1970-01-01 -> null
        + user bob
            uid:     20002
            name:    "Bob \\"B\\""
            shell:   /bin/bash
            groups:  [dev]
            sshKeys: [ssh-ed25519 …/20AkJuT bob@laptop]
            expires: 2027-03-01
        + user carol
            uid:     20003
            name:    ""
            shell:   /bin/bash
            groups:  [dev]
            sshKeys: []

      Plan: 5 to create, 5 to update, 2 to lock, 2 to delete.
      "
    `);
  });

  it('renders user deletes (policy.offboard delete)', () => {
    const desired = desiredState({ roles: [DEV], users: [ALICE], policy: { offboard: 'delete' } });
    const observed = observedState({
      'i-web1': instance({
        groups: [group('dev', 3001)],
        sudoers: { 'rollcall-dev': sudoersFile('dev', 'dev', [RULE]) },
        users: [managedUser(ALICE, ['dev']), managedUser(user('dave', 20004), ['dev']), lockedUser(user('erin', 20005))],
      }),
    });
    expect(render(plan({ ...desired, revision: REVISION }, observed, desired.fleet.policy, TODAY))).toMatchInlineSnapshot(`
      "rollcall plan for revision 3f2a9c1e7b5d

        # i-web1
        - user dave
        - user erin

      Plan: 0 to create, 0 to update, 0 to lock, 2 to delete.
      "
    `);
  });

  it('renders a plan with errors and warnings', () => {
    const desired = desiredState({
      hostgroups: { web: { tags: { app: 'web' } }, db: { instanceIds: ['i-gone1'] } },
      roles: [DEV],
      users: [ALICE],
      policy: { maxDeletions: 0 },
    });
    const observed = observedState({
      'i-web1': instance({ users: [unmanagedUser('alice', 1500), managedUser(user('dave', 20004), [])] }),
      'i-old1': instance({ tags: { app: 'legacy' } }),
    });
    expect(render(plan({ ...desired, revision: REVISION }, observed, desired.fleet.policy, TODAY))).toMatchInlineSnapshot(`
      "rollcall plan for revision 3f2a9c1e7b5d

        # i-web1
        + group dev (gid 3001)
        + sudoers rollcall-dev
            + # Managed by rollcall (role dev); edits here are overwritten.
            + %dev ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx
        ! user dave
            locked:  false -> true
            expires: null -> 1970-01-01

      Error: the plan would lock or delete 1 login (dave), more than policy.maxDeletions (0); if that is intended, add the trailer "Rollcall-Allow-Deletions: 1" to the commit, or raise policy.maxDeletions
      Error: i-web1: an account alice (uid 1500) already exists here and rollcall did not create it: set adopt: true in users/E20001.yaml to take it over, or choose another login
      Warning: i-gone1: is listed in hostgroups.db, but the fleet did not report it (released, stopped, or in another region?): nothing is planned for it
      Warning: i-old1: is in no hostgroup, so nothing on it is changed (if it lost a tag by mistake, tag it again)

      Plan: 2 to create, 0 to update, 1 to lock, 0 to delete.
      The plan has 2 errors and will not be applied as it stands.
      "
    `);
  });

  it('renders a plan with errors and no entries', () => {
    const desired = desiredState({ roles: [DEV], users: [ALICE] });
    const observed = observedState({
      'i-web1': instance({ groups: [group('dev', 3001)], sudoers: { 'rollcall-dev': sudoersFile('dev', 'dev', [RULE]) }, users: [unmanagedUser('alice', 1500)] }),
    });
    expect(render(plan({ ...desired, revision: REVISION }, observed, desired.fleet.policy, TODAY))).toMatchInlineSnapshot(`
      "rollcall plan for revision 3f2a9c1e7b5d

      No changes planned.

      Error: i-web1: an account alice (uid 1500) already exists here and rollcall did not create it: set adopt: true in users/E20001.yaml to take it over, or choose another login

      Plan: 0 to create, 0 to update, 0 to lock, 0 to delete.
      The plan has 1 error and will not be applied as it stands.
      "
    `);
  });

  it('colours only with color: true', async () => {
    const result = await examplePlan();
    const ESC = '\x1b[';
    const colored = render(result, { color: true });
    expect(colored).toContain(`${ESC}32m+ user fengsan${ESC}0m`);
    expect(colored).toContain(`${ESC}35m! user wujiu${ESC}0m`);
    expect(colored).toContain(`${ESC}33mWarning:${ESC}0m`);
    expect(render(result, { color: false })).not.toContain('\x1b');
    expect(render(result)).not.toContain('\x1b');
    // Without the escapes, the coloured text is the plain text.
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).toBe(render(result, { color: false }));
  });

  it('shows a working-tree revision as such, and a commit as 12 hex digits', () => {
    expect(shortRevision(REVISION)).toBe('3f2a9c1e7b5d');
    expect(shortRevision(`sha256:${'ab'.repeat(32)}`)).toBe('sha256:abababababab (working tree)');
  });
});
