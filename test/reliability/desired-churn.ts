import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SeededRandom } from './seeded-random.js';

/** A user the churn made, as its file says now. */
export interface ChurnUser {
  empId: string;
  login: string;
  uid: number;
  name: string;
  shell: string;
  roles: string[];
  state: 'present' | 'absent';
}

/** The example roles and the hostgroups they reach (desired-state/roles/*.yaml). */
export const ROLE_HOSTGROUPS: Readonly<Record<string, readonly ('web' | 'db')[]>> = {
  analyst: ['db'],
  dba: ['db'],
  devops: ['web', 'db'],
  oncall: ['web', 'db'],
  webdev: ['web'],
};

const SHELLS = ['/bin/bash', '/bin/sh'];
/** Locks count against policy.maxDeletions (10): a few offboardings, no more. */
const MAX_OFFBOARDED = 2;
/** sunqi (E1005) is in the example already: his shell is changed too, so edits to files the churn did not write are covered. */
const SUNQI = 'users/E1005.yaml';

type ChangeKind = 'add' | 'shell' | 'name' | 'roles' | 'offboard' | 'sunqi-shell';

/**
 * Seeded changes to a desired-state folder, the kinds people commit: a new user, a changed shell
 * or name, a role change, an offboarding. It only writes files; the caller commits them.
 */
export class DesiredChurn {
  readonly users = new Map<string, ChurnUser>();
  /** sunqi's shell as his file says now. */
  sunqiShell = '/bin/bash';
  private made = 0;
  private renamed = 0;

  constructor(
    private readonly dir: string,
    private readonly random: SeededRandom,
  ) {}

  /** One to three changes (one most of the time); what they were, for the commit message. Two may cancel out (a shell changed twice): the caller checks. */
  change(): string[] {
    const count = this.random.chance(0.7) ? 1 : this.random.int(2, 3);
    return Array.from({ length: count }, () => this.one(this.kind()));
  }

  /** The users present, with the hostgroups their roles reach. */
  present(): (ChurnUser & { hostgroups: Set<'web' | 'db'> })[] {
    return [...this.users.values()]
      .filter((user) => user.state === 'present')
      .map((user) => ({ ...user, hostgroups: new Set(user.roles.flatMap((role) => ROLE_HOSTGROUPS[role] ?? [])) }));
  }

  private kind(): ChangeKind {
    const present = this.present().length;
    if (present === 0) return 'add';
    const offboarded = [...this.users.values()].filter((user) => user.state === 'absent').length;
    const kinds: ChangeKind[] = ['add', 'add', 'shell', 'name', 'roles', 'roles', 'sunqi-shell'];
    if (offboarded < MAX_OFFBOARDED && present > 2) kinds.push('offboard');
    return this.random.pick(kinds);
  }

  private one(kind: ChangeKind): string {
    if (kind === 'add') {
      const n = this.made++;
      const user: ChurnUser = { empId: `E3${String(n).padStart(3, '0')}`, login: `churn${n}`, uid: 23000 + n, name: `Churn ${n}`, shell: this.random.pick(SHELLS), roles: this.roles(), state: 'present' };
      this.users.set(user.empId, user);
      this.write(user);
      return `add ${user.login} (${user.roles.join(', ')})`;
    }
    if (kind === 'sunqi-shell') {
      this.sunqiShell = this.sunqiShell === '/bin/bash' ? '/bin/sh' : '/bin/bash';
      const file = path.join(this.dir, SUNQI);
      const text = readFileSync(file, 'utf8');
      writeFileSync(file, /^shell: .*$/m.test(text) ? text.replace(/^shell: .*$/m, `shell: ${this.sunqiShell}`) : `${text}shell: ${this.sunqiShell}\n`);
      return `sunqi shell ${this.sunqiShell}`;
    }
    const user = this.users.get(this.random.pick(this.present()).empId)!;
    if (kind === 'shell') {
      user.shell = user.shell === '/bin/bash' ? '/bin/sh' : '/bin/bash';
      this.write(user);
      return `${user.login} shell ${user.shell}`;
    }
    if (kind === 'name') {
      user.name = `Churn ${user.login.slice('churn'.length)} v${++this.renamed}`;
      this.write(user);
      return `${user.login} name ${user.name}`;
    }
    if (kind === 'roles') {
      const before = user.roles.join(',');
      while (user.roles.join(',') === before) user.roles = this.roles();
      this.write(user);
      return `${user.login} roles ${user.roles.join(', ')}`;
    }
    user.state = 'absent';
    this.write(user);
    return `offboard ${user.login}`;
  }

  private roles(): string[] {
    const all = Object.keys(ROLE_HOSTGROUPS);
    return this.random.shuffle(all).slice(0, this.random.int(1, 2)).sort();
  }

  private write(user: ChurnUser): void {
    const lines = [`empId: ${user.empId}`, `login: ${user.login}`, `uid: ${user.uid}`, `name: ${user.name}`, `roles: [${user.roles.join(', ')}]`, `shell: ${user.shell}`];
    if (user.state === 'absent') lines.push('state: absent');
    writeFileSync(path.join(this.dir, 'users', `${user.empId}.yaml`), `${lines.join('\n')}\n`);
  }
}
