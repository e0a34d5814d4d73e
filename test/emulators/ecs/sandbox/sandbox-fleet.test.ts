import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KERNEL_LACKS,
  SandboxError,
  SandboxFleet,
  SandboxUnavailableError,
  sandboxSupport,
  type RunResult,
} from '../../../../src/emulators/ecs/sandbox/sandbox-fleet.js';

// Skip only when the kernel or platform lacks the feature; not being root fails, loudly, so CI
// (root) can never pass by skipping.
const support = await sandboxSupport();
const kernelLacks = !support.ok && KERNEL_LACKS.has(support.lacking);
if (kernelLacks) console.warn(`skipping sandbox fleet tests: ${support.reason}`);

/** Host pids of the processes in any of these PID namespaces (`pid:[inode]`), read from the host's /proc. */
function hostProcessesIn(pidNamespaces: ReadonlySet<string>): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (pidNamespaces.has(readlinkSync(`/proc/${entry}/ns/pid`))) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function text(result: RunResult): string {
  return result.stdout.toString('utf8');
}

describe.skipIf(kernelLacks)('SandboxFleet', () => {
  let fleet: SandboxFleet;
  let one: string;
  let two: string;
  /** `pid:[inode]` of every instance this file starts, for the final no-survivors check. */
  const pidNamespaces = new Set<string>();

  async function pidNamespaceOf(id: string): Promise<string> {
    const result = await fleet.exec(id, ['readlink', '/proc/1/ns/pid']);
    const namespace = text(result).trim();
    pidNamespaces.add(namespace);
    return namespace;
  }

  async function run(id: string, script: string): Promise<RunResult> {
    const result = await fleet.runScript(id, script, { timeoutMs: 10_000 });
    expect(result.stderr.toString(), `stderr of: ${script}`).toBe('');
    expect(result.exitCode, `exit code of: ${script}`).toBe(0);
    return result;
  }

  beforeAll(async () => {
    expect(support).toEqual({ ok: true });
    fleet = await SandboxFleet.create();
    const [a, b] = await Promise.all([fleet.createInstance({ tags: { app: 'web' } }), fleet.createInstance({ tags: { app: 'db', env: 'prod' } })]);
    one = a.id;
    two = b.id;
    await Promise.all([pidNamespaceOf(one), pidNamespaceOf(two)]);
  });

  afterAll(async () => {
    await fleet?.destroyAll();
  });

  it('numbers instances i-local0001, i-local0002, … in call order and lists them with their tags', () => {
    expect([one, two]).toEqual(['i-local0001', 'i-local0002']);
    expect(fleet.list()).toEqual([
      { id: 'i-local0001', tags: { app: 'web' } },
      { id: 'i-local0002', tags: { app: 'db', env: 'prod' } },
    ]);
    expect(fleet.get(one)).toEqual({ id: one, tags: { app: 'web' } });
    expect(fleet.get('i-nothere')).toBeUndefined();
  });

  it('runs a script as root in /root with a clean environment', async () => {
    process.env.ROLLCALL_SANDBOX_LEAK = 'must not reach the script';
    try {
      const result = await fleet.runScript(one, 'id -u; pwd; umask; env | sort', { env: { EXTRA: 'yes' } });
      expect(result).toMatchObject({ exitCode: 0, timedOut: false });
      expect(text(result)).toBe(
        [
          '0',
          '/root',
          '0022',
          'EXTRA=yes',
          'HOME=/root',
          'LANG=C.UTF-8',
          'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          'PWD=/root',
          '',
        ].join('\n'),
      );
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
    } finally {
      delete process.env.ROLLCALL_SANDBOX_LEAK;
    }
  });

  it('gives each instance its own /etc/passwd: useradd in one is seen in neither the other nor the host', async () => {
    expect(readFileSync('/etc/passwd', 'utf8')).not.toMatch(/^alice:/m); // else the test proves nothing
    await run(one, 'useradd --create-home alice');
    expect(text(await run(one, 'getent passwd alice | cut -d: -f1,6'))).toBe('alice:/home/alice\n');
    expect(text(await run(one, 'test -d /home/alice && stat -c %U /home/alice'))).toBe('alice\n');

    const other = await fleet.runScript(two, 'grep -c ^alice: /etc/passwd; getent passwd alice');
    expect(text(other)).toBe('0\n');
    expect(other.exitCode).not.toBe(0);
    expect(readFileSync('/etc/passwd', 'utf8')).not.toMatch(/^alice:/m);
    expect(readFileSync('/etc/shadow', 'utf8')).not.toMatch(/^alice:/m);
    expect(existsSync('/home/alice')).toBe(false);
  });

  it('runs visudo -cf inside, accepting a good sudoers file and refusing a bad one', async () => {
    const good = await fleet.runScript(one, "printf '%s\\n' '%admins ALL=(ALL) NOPASSWD: /usr/bin/true' > /tmp/good && visudo -cf /tmp/good");
    expect(good.exitCode).toBe(0);
    const bad = await fleet.runScript(one, "printf '%s\\n' 'this is not sudoers' > /tmp/bad && visudo -cf /tmp/bad");
    expect(bad.exitCode).not.toBe(0);
    await run(one, "printf '%s\\n' '%admins ALL=(ALL) NOPASSWD: /usr/bin/true' > /etc/sudoers.d/rollcall-test && chmod 0440 /etc/sudoers.d/rollcall-test && visudo -c >/dev/null");
    expect(existsSync('/etc/sudoers.d/rollcall-test')).toBe(false);
  });

  it('keeps /home, /root, /var and /tmp to the instance', async () => {
    const name = `sandbox-${randomBytes(6).toString('hex')}`;
    await run(one, `for d in /home /root /var/tmp /tmp; do echo written > "$d/${name}"; done`);
    for (const dir of ['/home', '/root', '/var/tmp', '/tmp']) {
      expect(existsSync(path.join(dir, name)), `${dir}/${name} on the host`).toBe(false);
    }
    expect(text(await run(one, `cat /home/${name} /tmp/${name}`))).toBe('written\nwritten\n');
    expect(text(await fleet.runScript(two, `ls /home/${name} /root/${name} /var/tmp/${name} /tmp/${name} 2>/dev/null; true`))).toBe('');
  });

  it('keeps a background process started as a user alive between runs, until pkill -u ends it', async () => {
    await run(two, 'useradd bob');
    await run(two, 'runuser -u bob -- sleep 1000 >/dev/null 2>&1 &');
    // The background job starts after its run returned: wait (up to 5 s) for it to appear, then count it.
    expect(text(await run(two, 'for i in $(seq 50); do pgrep -u bob -x sleep >/dev/null && break; sleep 0.1; done; pgrep -u bob -x sleep | wc -l'))).toBe('1\n');
    await run(two, 'pkill -u bob');
    const after = await fleet.runScript(two, 'for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -u bob >/dev/null || exit 0; sleep 0.1; done; exit 1');
    expect(after.exitCode).toBe(0);
  });

  it('returns from a run that leaves a process holding its stdout', async () => {
    const result = await fleet.runScript(one, 'echo before; sleep 1000 & echo after', { timeoutMs: 5_000 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(text(result)).toBe('before\nafter\n');
    await run(one, "pkill -x -f 'sleep 1000'");
  });

  it('kills the whole run on timeout, background jobs included', async () => {
    const result = await fleet.runScript(one, 'sleep 61 & sleep 60', { timeoutMs: 500 });
    expect(result).toMatchObject({ exitCode: null, timedOut: true });
    expect(result.durationMs).toBeGreaterThanOrEqual(500);
    expect(result.durationMs).toBeLessThan(3_000);
    expect(text(await fleet.runScript(one, 'pgrep -f "sleep 6[01]" | wc -l'))).toBe('0\n');
  });

  it('substitutes parameters as plain text, the way Cloud Assistant does', async () => {
    const plain = await fleet.runScript(one, "echo '{{v}}'", { parameters: { v: 'plain value' } });
    expect(text(plain)).toBe('plain value\n');

    // A quote in a value ends the script's quoted string: `echo 'it's'` leaves a quote unterminated.
    const broken = await fleet.runScript(one, "echo '{{v}}'", { parameters: { v: "it's" } });
    expect(broken.exitCode).toBe(2);
    expect(broken.stderr.toString()).toMatch(/Unterminated quoted string/);

    // And a crafted value runs a command of its own.
    const injected = await fleet.runScript(one, "echo '{{V}}'", { parameters: { v: "x'; echo injected; echo '" } });
    expect(text(injected)).toBe('x\ninjected\n\n');
  });

  it('fills in the built-in parameters, the instance id by default', async () => {
    const result = await fleet.runScript(one, 'echo {{ACS::InstanceId}} {{ACS::RegionId}} {{ACS::InvokeId}} {{ACS::CommandId}} {{ACS::AccountId}} {{ACS::InstanceName}} {{unset}}', {
      builtins: { regionId: 'cn-hangzhou', invokeId: 't-local1', commandId: 'c-local1' },
    });
    expect(text(result)).toBe(`${one} cn-hangzhou t-local1 c-local1 {{ACS::AccountId}} {{ACS::InstanceName}} {{unset}}\n`);
  });

  it('returns stdout and stderr as bytes, UTF-8 or not', async () => {
    const result = await fleet.runScript(one, "printf '\\377\\376\\000ok'; printf 'warn\\n' >&2; exit 3");
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x6f, 0x6b]));
    expect(result.stderr.toString()).toBe('warn\n');
  });

  it('execs argv without a shell, with stdin when given', async () => {
    const literal = await fleet.exec(one, ['echo', '$(id -u); `id`', '{{v}}']);
    expect(text(literal)).toBe('$(id -u); `id` {{v}}\n');

    expect((await fleet.exec(two, ['useradd', 'intruder'])).exitCode).toBe(0);
    expect(text(await fleet.runScript(two, 'getent passwd intruder | cut -d: -f1'))).toBe('intruder\n');
    expect(readFileSync('/etc/passwd', 'utf8')).not.toMatch(/^intruder:/m);

    await fleet.exec(two, ['tee', '/etc/rollcall-sandbox-input'], { input: 'from stdin\n' });
    expect(text(await fleet.exec(two, ['cat', '/etc/rollcall-sandbox-input']))).toBe('from stdin\n');
    expect(existsSync('/etc/rollcall-sandbox-input')).toBe(false);

    await expect(fleet.exec(one, [])).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('starts six instances in parallel, each with its own namespaces', async () => {
    const started = await Promise.all(Array.from({ length: 6 }, (_, i) => fleet.createInstance({ tags: { batch: String(i) } })));
    const ids = started.map((instance) => instance.id);
    expect(new Set(ids).size).toBe(6);
    const results = await Promise.all(ids.map((id) => fleet.runScript(id, 'readlink /proc/1/ns/mnt; touch /etc/mark-{{ACS::InstanceId}}; ls /etc | grep -c ^mark-')));
    const namespaces = results.map((result) => text(result).split('\n')[0]);
    expect(new Set(namespaces).size).toBe(6);
    expect(results.map((result) => text(result).split('\n')[1])).toEqual(Array(6).fill('1'));
    await Promise.all(ids.map((id) => pidNamespaceOf(id)));
    await Promise.all(ids.map((id) => fleet.destroyInstance(id)));
  });

  it('takes a chosen id, and refuses a taken or malformed one', async () => {
    const chosen = await fleet.createInstance({ id: 'i-chosen1' });
    expect(chosen).toEqual({ id: 'i-chosen1', tags: {} });
    await pidNamespaceOf(chosen.id);
    await expect(fleet.createInstance({ id: 'i-chosen1' })).rejects.toMatchObject({ code: 'instance-exists' });
    await expect(fleet.createInstance({ id: '../escape' })).rejects.toMatchObject({ code: 'invalid-argument' });
    await fleet.destroyInstance(chosen.id);
  });

  it('destroyInstance kills its processes and removes its state; later calls get a clear error', async () => {
    const { id } = await fleet.createInstance();
    const namespace = await pidNamespaceOf(id);
    await run(id, 'useradd carol && runuser -u carol -- sleep 1000 >/dev/null 2>&1 &');
    expect(hostProcessesIn(new Set([namespace])).length).toBeGreaterThanOrEqual(3); // init, its sleep, carol's sleep
    const dir = path.join(fleet.stateDir, id);
    expect(existsSync(dir)).toBe(true);

    await fleet.destroyInstance(id);
    expect(hostProcessesIn(new Set([namespace]))).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(fleet.get(id)).toBeUndefined();
    await expect(fleet.runScript(id, 'true')).rejects.toThrow(new RegExp(`no sandbox instance ${id}`));
    await expect(fleet.runScript(id, 'true')).rejects.toMatchObject({ code: 'no-such-instance' });
    await expect(fleet.destroyInstance(id)).rejects.toMatchObject({ code: 'no-such-instance' });
  });

  it('reports an instance whose namespace was killed behind its back', async () => {
    const { id } = await fleet.createInstance();
    const namespace = await pidNamespaceOf(id);
    const init = hostProcessesIn(new Set([namespace])).find((pid) => readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:.*\s1$/m));
    expect(init).toBeDefined();
    process.kill(init!, 'SIGKILL');
    await expect.poll(() => hostProcessesIn(new Set([namespace])).length).toBe(0);
    await expect(fleet.runScript(id, 'true')).rejects.toMatchObject({ code: 'instance-gone' });
    await fleet.destroyInstance(id);
  });

  it('destroyAll leaves no process of any instance and no state behind', async () => {
    expect(hostProcessesIn(pidNamespaces).length).toBeGreaterThan(0);
    await fleet.destroyAll();
    expect(fleet.list()).toEqual([]);
    expect(hostProcessesIn(pidNamespaces)).toEqual([]);
    expect(existsSync(fleet.stateDir)).toBe(false);
  });
});

describe.skipIf(kernelLacks)('SandboxFleet.create', () => {
  it('refuses a state directory inside a directory the instances overlay', async () => {
    const stateDir = path.join('/var/tmp', `rollcall-sandbox-${randomBytes(4).toString('hex')}`);
    const support = await sandboxSupport({ stateDir });
    expect(support).toMatchObject({ ok: false, lacking: 'state-dir' });
    const error = await SandboxFleet.create({ stateDir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SandboxUnavailableError);
    expect(error).toBeInstanceOf(SandboxError);
    expect(error).toMatchObject({ code: 'unavailable', lacking: 'state-dir', reason: expect.stringContaining('/var') });
    expect(existsSync(stateDir)).toBe(false);
  });

  it('keeps a given state directory', async () => {
    const stateDir = path.join(tmpdir(), `rollcall-sandbox-given-${randomBytes(4).toString('hex')}`);
    const fleet = await SandboxFleet.create({ stateDir });
    try {
      expect(fleet.stateDir).toBe(stateDir);
      const { id } = await fleet.createInstance();
      expect(existsSync(path.join(stateDir, id, 'upper', 'etc'))).toBe(true);
      await fleet.destroyAll();
      expect(readdirSync(stateDir)).toEqual([]);
    } finally {
      await fleet.destroyAll();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
