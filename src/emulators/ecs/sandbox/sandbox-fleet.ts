import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SYSTEM_PATH } from './host-tools.js';
import { InstanceNamespace } from './instance-namespace.js';
import { runInNamespace, type RunResult } from './run-in-namespace.js';
import { SandboxError, SandboxUnavailableError } from './sandbox-errors.js';
import { sandboxSupport } from './sandbox-support.js';
import { substituteParameters, type BuiltinParameters } from './substitute-parameters.js';

export type { RunResult } from './run-in-namespace.js';
export type { BuiltinParameters } from './substitute-parameters.js';
export { substituteParameters } from './substitute-parameters.js';
export { sandboxSupport, KERNEL_LACKS, type SandboxSupport } from './sandbox-support.js';
export { SandboxError, SandboxUnavailableError, type SandboxErrorCode, type SandboxLack } from './sandbox-errors.js';

/** A sandbox instance as the ECS emulator sees it. */
export interface SandboxInstance {
  id: string;
  tags: Readonly<Record<string, string>>;
}

export interface CreateInstanceOptions {
  /** Default: the next free `i-localNNNN`. Letters, digits, `.`, `_` and `-`; it names a directory. */
  id?: string;
  tags?: Readonly<Record<string, string>>;
}

export interface RunScriptOptions {
  /** Values for `{{name}}` placeholders, substituted as plain text, as Cloud Assistant does. */
  parameters?: Readonly<Record<string, string>>;
  /** Values for `{{ACS::…}}`; `instanceId` defaults to the instance's id. */
  builtins?: Readonly<BuiltinParameters>;
  /** Default 60 000, Cloud Assistant's default Timeout. */
  timeoutMs?: number;
  /** Added to the clean environment (and may override it). */
  env?: Readonly<Record<string, string>>;
}

export interface ExecOptions {
  /** Written to the program's stdin; without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Default 60 000. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** What a script sees, and nothing of Node's own environment (no secrets, no NODE_OPTIONS). */
const CLEAN_ENV: Readonly<Record<string, string>> = { PATH: SYSTEM_PATH, HOME: '/root', LANG: 'C.UTF-8' };

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface Entry {
  info: SandboxInstance;
  dir: string;
  namespace: InstanceNamespace;
}

/**
 * Local stand-ins for ECS instances: each is a Linux mount and PID namespace whose /etc, /home,
 * /var and /root are copy-on-write overlays of the host's (upper directories in
 * `<stateDir>/<id>/upper/`) and whose /tmp is a private tmpfs. `useradd`, `visudo` and `pkill -u`
 * work for real inside and change only that instance; the host is never changed. Processes a script
 * leaves running keep running until a later script ends them or the instance is destroyed. Needs
 * root and Linux (see README.md); instances die with the Node process.
 */
export class SandboxFleet {
  /** Each instance keeps its state in `<stateDir>/<id>/`. */
  readonly stateDir: string;
  readonly #ownsStateDir: boolean;
  readonly #instances = new Map<string, Entry>();
  /** Ids taken by instances that are starting, so parallel creates never pick the same one. */
  readonly #reserved = new Set<string>();
  #nextNumber = 1;

  private constructor(stateDir: string, ownsStateDir: boolean) {
    this.stateDir = stateDir;
    this.#ownsStateDir = ownsStateDir;
  }

  /**
   * Checks that this machine can host instances (see `sandboxSupport`) and makes an empty fleet.
   * `stateDir` defaults to a new directory under the OS temp directory, removed by `destroyAll`;
   * it must not lie under /etc, /home, /var or /root. Throws SandboxUnavailableError.
   */
  static async create(options: { stateDir?: string } = {}): Promise<SandboxFleet> {
    const support = await sandboxSupport(options.stateDir === undefined ? {} : { stateDir: options.stateDir });
    if (!support.ok) throw new SandboxUnavailableError(support.reason, support.lacking);
    if (options.stateDir !== undefined) {
      const stateDir = path.resolve(options.stateDir);
      await mkdir(stateDir, { recursive: true });
      return new SandboxFleet(stateDir, false);
    }
    return new SandboxFleet(await mkdtemp(path.join(tmpdir(), 'rollcall-sandbox-')), true);
  }

  /** Starts an instance; resolves once its overlays and /tmp are mounted. */
  async createInstance(options: CreateInstanceOptions = {}): Promise<SandboxInstance> {
    const id = options.id ?? this.#nextFreeId();
    if (!INSTANCE_ID.test(id)) {
      throw new SandboxError('invalid-argument', `instance id ${JSON.stringify(id)} is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    if (this.#instances.has(id) || this.#reserved.has(id)) {
      throw new SandboxError('instance-exists', `sandbox instance ${id} exists already`);
    }
    this.#reserved.add(id);
    const dir = path.join(this.stateDir, id);
    try {
      await rm(dir, { recursive: true, force: true }); // leftovers of an earlier process's instance
      await mkdir(dir, { recursive: true });
      const namespace = await InstanceNamespace.start(dir);
      const info: SandboxInstance = { id, tags: Object.freeze({ ...options.tags }) };
      this.#instances.set(id, { info, dir, namespace });
      return info;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    } finally {
      this.#reserved.delete(id);
    }
  }

  /** The instances, by id. */
  list(): SandboxInstance[] {
    return [...this.#instances.values()].map((entry) => entry.info).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: string): SandboxInstance | undefined {
    return this.#instances.get(id)?.info;
  }

  /**
   * Runs `script` with `/bin/sh -c` as root inside the instance, as Cloud Assistant's
   * RunShellScript does: placeholders substituted first (see `substituteParameters`), a clean
   * environment (PATH, HOME=/root, LANG=C.UTF-8, plus `env`), cwd /root, stdin /dev/null. The
   * script is one argv element: no shell on the host ever sees it. A run that outlives `timeoutMs`
   * is killed with everything it started in its process group: `exitCode` null, `timedOut` true.
   */
  async runScript(id: string, script: string, options: RunScriptOptions = {}): Promise<RunResult> {
    const entry = await this.#running(id);
    const text = substituteParameters(script, options.parameters, { instanceId: id, ...options.builtins });
    return runInNamespace(entry.namespace.initPid, ['/bin/sh', '-c', text], {
      env: { ...CLEAN_ENV, ...options.env },
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      outputDir: path.join(entry.dir, 'runs'),
    });
  }

  /**
   * Runs `argv` as root inside the instance, without a shell and without substitution: for tests
   * that change an instance behind rollcall's back (`['useradd', 'intruder']`).
   */
  async exec(id: string, argv: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new SandboxError('invalid-argument', 'exec needs a program to run: argv is empty');
    const entry = await this.#running(id);
    return runInNamespace(entry.namespace.initPid, argv, {
      env: CLEAN_ENV,
      ...(options.input !== undefined ? { input: options.input } : {}),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      outputDir: path.join(entry.dir, 'runs'),
    });
  }

  /** Kills every process of the instance and removes its state directory. */
  async destroyInstance(id: string): Promise<void> {
    const entry = this.#instances.get(id);
    if (entry === undefined) throw noSuchInstance(id);
    // Forget it first: a runScript that comes in meanwhile gets a clear error, not a dying namespace.
    this.#instances.delete(id);
    await entry.namespace.stop();
    await rm(entry.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** Destroys every instance, and the state directory too when the fleet made it. */
  async destroyAll(): Promise<void> {
    await Promise.all([...this.#instances.keys()].map((id) => this.destroyInstance(id)));
    if (this.#ownsStateDir) await rm(this.stateDir, { recursive: true, force: true, maxRetries: 3 });
  }

  #nextFreeId(): string {
    for (;;) {
      const id = `i-local${String(this.#nextNumber++).padStart(4, '0')}`;
      if (!this.#instances.has(id) && !this.#reserved.has(id)) return id;
    }
  }

  async #running(id: string): Promise<Entry> {
    const entry = this.#instances.get(id);
    if (entry === undefined) throw noSuchInstance(id);
    await entry.namespace.assertAlive(id);
    return entry;
  }
}

function noSuchInstance(id: string): SandboxError {
  return new SandboxError('no-such-instance', `no sandbox instance ${id}: it was never created in this fleet, or it has been destroyed`);
}
