import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { OUTPUT_LIMIT_BYTES } from './cloud-assistant-limits.js';
import type { Faults, InstanceFaults } from './faults.js';
import { newFileInvokeId, newInvokeId } from './ids.js';
import { FINAL_STATUSES, TASK_COMPLETED_STATUSES, type InstanceStatus } from './invocation-status.js';
import type { RunQueue } from './run-queue.js';
import { SandboxError, type RunResult, type SandboxFleet } from './sandbox/sandbox-fleet.js';
import type { VirtualInstances } from './virtual-instances.js';

/** Seconds Cloud Assistant tries to deliver a command before the instance's run is `Aborted`. */
export const DELIVERY_DEADLINE_SECONDS = 60;

/**
 * Every run carries this variable with a token of its own, so StopInvocation can find the run's
 * processes inside the instance (its shell and whatever inherited the environment) and kill them,
 * without changing a byte of the script.
 */
const RUN_MARKER = 'CLOUD_ASSISTANT_EMULATOR_RUN';
const WORKING_DIR_VARIABLE = 'CLOUD_ASSISTANT_WORKING_DIR';

/** Kills the processes whose environment holds `$1` (`NAME=token`); PID 1 and the killer itself lack it. */
const KILL_RUN_SCRIPT = `for e in /proc/[0-9]*/environ; do
  p=\${e#/proc/}; p=\${p%/environ}
  tr '\\0' '\\n' <"$e" 2>/dev/null | grep -qxF -- "$1" && kill -9 "$p" 2>/dev/null
done
exit 0`;

/**
 * SendFile on one instance: `$1` directory, `$2` name, `$3` mode, `$4` owner, `$5` group,
 * `$6` overwrite, the content on stdin. Values arrive as arguments, never as script text. Written
 * to a temporary file first and moved into place, so a reader never sees half a file.
 */
const WRITE_FILE_SCRIPT = `dir=$1 name=$2 mode=$3 owner=$4 group=$5 overwrite=$6
id -u -- "$owner" >/dev/null 2>&1 || exit 11
getent group "$group" >/dev/null 2>&1 || exit 14
mkdir -p -- "$dir" 2>/dev/null && [ -d "$dir" ] || exit 12
f=$dir/$name
[ -d "$f" ] && exit 12
if [ -e "$f" ] || [ -L "$f" ]; then [ "$overwrite" = true ] || exit 10; fi
tmp=$(mktemp "$dir/.sendfile.XXXXXX") || exit 13
if cat >"$tmp" && chown -- "$owner:$group" "$tmp" && chmod -- "$mode" "$tmp" && mv -f -- "$tmp" "$f"; then exit 0; fi
rm -f -- "$tmp"
exit 13`;

/** Exit codes of WRITE_FILE_SCRIPT → the per-instance error of DescribeSendFileResults. */
const WRITE_FILE_ERRORS: ReadonlyMap<number, { errorCode: string; errorInfo: string }> = new Map([
  [10, { errorCode: 'FileAlreadyExists', errorInfo: 'the file already exists and Overwrite is false' }],
  [11, { errorCode: 'UserNotExists', errorInfo: 'the specified file owner does not exist on the instance' }],
  [14, { errorCode: 'UserGroupNotExists', errorInfo: 'the specified file group does not exist on the instance' }],
  [12, { errorCode: 'FilePathInvalid', errorInfo: 'the target directory cannot be created, or the target is a directory' }],
]);

/** One instance's part of an invocation. Mutable: the run updates it as it goes. */
export interface InstanceRecord {
  instanceId: string;
  status: InstanceStatus;
  /** Set once the script exited by itself (or was stopped after it exited). */
  exitCode?: number;
  /** '' while all is well, else a Cloud Assistant error code such as `ExitCodeNonzero`. */
  errorCode: string;
  errorInfo: string;
  /** stdout then stderr, at most 24 KB. */
  output: Buffer;
  /** Bytes of output cut off beyond 24 KB. */
  dropped: number;
  creationTime: Date;
  updateTime: Date;
  startTime?: Date;
  finishedTime?: Date;
  stopTime?: Date;
  /** The injected faults this run started with. */
  faults: InstanceFaults;
  stopRequested: boolean;
}

/** What a command invocation runs. */
export interface CommandSpec {
  commandId: string;
  commandName: string;
  commandDescription: string;
  /** The script, plain text. */
  content: string;
  enableParameter: boolean;
  parameters: Readonly<Record<string, string>> | undefined;
  timeoutSeconds: number;
  /** '' for the default, /root. */
  workingDir: string;
}

/** What a SendFile writes. */
export interface FileSpec {
  name: string;
  targetDir: string;
  content: Buffer;
  /** As sent, for DescribeSendFileResults. */
  sentContent: string;
  contentType: 'PlainText' | 'Base64';
  fileMode: string;
  fileOwner: string;
  fileGroup: string;
  overwrite: boolean;
  description: string;
  timeoutSeconds: number;
}

interface InvocationBase {
  invokeId: string;
  creationTime: Date;
  /** By instance id, in request order. */
  instances: Map<string, InstanceRecord>;
  /** StopInvocation without instance ids ended it as a whole (overall status Stopped). */
  stoppedWhole: boolean;
}

/** A RunCommand or InvokeCommand. */
export interface CommandInvocation extends InvocationBase {
  kind: 'command';
  command: CommandSpec;
}

/** A SendFile (DescribeSendFileResults shows it, DescribeInvocations does not). */
export interface FileInvocation extends InvocationBase {
  kind: 'file';
  file: FileSpec;
}

/** Either kind; they share the delivery engine and the fault handling. */
export type Invocation = CommandInvocation | FileInvocation;

/** What the engine runs on, and where it reports finished instances. */
export interface InvocationsOptions {
  fleet: SandboxFleet;
  /** Instances whose runs a function answers instead of a sandbox. */
  virtual: VirtualInstances;
  faults: Faults;
  queue: RunQueue;
  regionId: string;
  accountId: string;
  /** Real milliseconds one second of the API's clock lasts (Timeout, the delivery deadline). */
  secondMs: number;
  /** An instance of a command invocation reached a final status (its result not lost). */
  onTaskCompleted?: (invocation: CommandInvocation, record: InstanceRecord) => void;
}

interface ActiveRun {
  token: string;
  /** Settles when the run's process has exited. */
  done: Promise<unknown>;
  /** A virtual instance's run is stopped through this, not by killing processes. */
  stop?: AbortController;
}

/**
 * The invocations of the emulated region, and the engine that carries them out on the sandbox
 * instances (or hands them to the runner of the virtual ones): each instance's run goes Pending → Running → a final status, asynchronously, a bounded
 * number at once, with the faults of `Faults` applied as it is dispatched.
 */
export class Invocations {
  readonly #options: InvocationsOptions;
  readonly #all = new Map<string, Invocation>();
  /** Every delivery still going on, for `close`. */
  readonly #pending = new Set<Promise<void>>();
  readonly #runs = new Map<InstanceRecord, ActiveRun>();
  readonly #closing = new AbortController();

  constructor(options: InvocationsOptions) {
    this.#options = options;
  }

  /** Starts running a command on `instanceIds` (which must exist) and returns at once. */
  startCommand(command: CommandSpec, instanceIds: readonly string[]): CommandInvocation {
    const invocation: CommandInvocation = { kind: 'command', invokeId: newInvokeId(), creationTime: new Date(), instances: this.#records(instanceIds), stoppedWhole: false, command };
    this.#start(invocation);
    return invocation;
  }

  /** Starts writing a file on `instanceIds` (which must exist) and returns at once. */
  sendFile(file: FileSpec, instanceIds: readonly string[]): FileInvocation {
    const invocation: FileInvocation = { kind: 'file', invokeId: newFileInvokeId(), creationTime: new Date(), instances: this.#records(instanceIds), stoppedWhole: false, file };
    this.#start(invocation);
    return invocation;
  }

  get(invokeId: string): Invocation | undefined {
    return this.#all.get(invokeId);
  }

  /** Command invocations, newest first. */
  commandInvocations(): CommandInvocation[] {
    return [...this.#all.values()].filter((invocation): invocation is CommandInvocation => invocation.kind === 'command').reverse();
  }

  /** File sends, newest first. */
  fileInvocations(): FileInvocation[] {
    return [...this.#all.values()].filter((invocation): invocation is FileInvocation => invocation.kind === 'file').reverse();
  }

  /**
   * A record as the API shows it. A lost result never arrives: the instance stays Running, with no
   * exit code or output, whatever really happened.
   */
  view(record: InstanceRecord): InstanceRecord {
    if (!record.faults.lostResult || !FINAL_STATUSES.has(record.status)) return record;
    const { exitCode: _exitCode, finishedTime: _finishedTime, ...rest } = record;
    return { ...rest, status: 'Running', errorCode: '', errorInfo: '', output: Buffer.alloc(0), dropped: 0 };
  }

  /**
   * StopInvocation: instances still Pending are Cancelled at once; running ones go Stopping, their
   * processes are killed, and they end Terminated. Finished instances are left as they are.
   * Without `instanceIds`, the whole invocation is stopped.
   */
  stop(invocation: CommandInvocation, instanceIds?: readonly string[]): void {
    if (instanceIds === undefined) invocation.stoppedWhole = true;
    const targets = instanceIds === undefined ? [...invocation.instances.values()] : instanceIds.map((id) => invocation.instances.get(id)!);
    for (const record of targets) {
      if (record.status === 'Pending') {
        record.stopRequested = true;
        record.stopTime = new Date();
        this.#finish(invocation, record, 'Cancelled', { errorCode: '', errorInfo: '' });
      } else if (record.status === 'Running') {
        record.stopRequested = true;
        record.stopTime = new Date();
        record.status = 'Stopping';
        record.updateTime = new Date();
        this.#track(this.#kill(record));
      }
    }
  }

  /** For DescribeCloudAssistantStatus: how many invocations an instance had, how many are open, the last one's time. */
  statsFor(instanceId: string): { invocationCount: number; activeTaskCount: number; lastInvokedTime: Date | undefined } {
    let invocationCount = 0;
    let activeTaskCount = 0;
    let lastInvokedTime: Date | undefined;
    for (const invocation of this.#all.values()) {
      const record = invocation.instances.get(instanceId);
      if (record === undefined || invocation.kind !== 'command') continue;
      invocationCount++;
      if (!FINAL_STATUSES.has(record.status)) activeTaskCount++;
      if (lastInvokedTime === undefined || invocation.creationTime > lastInvokedTime) lastInvokedTime = invocation.creationTime;
    }
    return { invocationCount, activeTaskCount, lastInvokedTime };
  }

  /** Stops everything still running and waits until every delivery has settled. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const record of this.#runs.keys()) {
      record.stopRequested = true;
      this.#track(this.#kill(record));
    }
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #records(instanceIds: readonly string[]): Map<string, InstanceRecord> {
    const now = new Date();
    const { faults } = this.#options;
    return new Map(
      instanceIds.map((instanceId) => [
        instanceId,
        {
          instanceId,
          status: 'Pending',
          errorCode: '',
          errorInfo: '',
          output: Buffer.alloc(0),
          dropped: 0,
          creationTime: now,
          updateTime: now,
          faults: faults.forInstance(instanceId),
          stopRequested: false,
        },
      ]),
    );
  }

  #start(invocation: Invocation): void {
    this.#all.set(invocation.invokeId, invocation);
    for (const record of invocation.instances.values()) {
      this.#track(
        this.#deliver(invocation, record).catch((error: unknown) => {
          this.#finish(invocation, record, 'Error', { errorCode: 'ExecutionException', errorInfo: `the command execution got an exception: ${(error as Error).message}` });
        }),
      );
    }
  }

  #track(promise: Promise<void>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }

  async #deliver(invocation: Invocation, record: InstanceRecord): Promise<void> {
    const { queue, secondMs } = this.#options;
    const { faults } = record;
    // Delivery is asynchronous, as in the service: the API call returns before anything runs.
    await new Promise((resolve) => setImmediate(resolve));
    if (faults.offline) {
      this.#finish(invocation, record, 'Failed', { errorCode: 'ClientNotRunning', errorInfo: 'the aliyun service is not running on the instance' });
      return;
    }
    if (faults.aborted) {
      await sleep(DELIVERY_DEADLINE_SECONDS * secondMs, undefined, { signal: this.#closing.signal }).catch(() => {});
      this.#finish(invocation, record, 'Aborted', { errorCode: 'DeliveryTimeout', errorInfo: 'the command delivery has been timeout' });
      return;
    }
    const release = await queue.acquire();
    try {
      // Cancelled by StopInvocation while it waited for a slot, or the emulator is closing.
      if (record.status !== 'Pending' || this.#closing.signal.aborted) return;
      record.status = 'Running';
      record.startTime = new Date();
      record.updateTime = record.startTime;
      if (invocation.kind === 'command') await this.#runCommand(invocation, record);
      else await this.#writeFile(invocation, record);
    } catch (error) {
      if (error instanceof SandboxError && (error.code === 'no-such-instance' || error.code === 'instance-gone')) {
        this.#finish(invocation, record, 'Error', { errorCode: 'InstanceReleased', errorInfo: 'the instance has released when create task' });
      } else {
        throw error;
      }
    } finally {
      release();
    }
  }

  async #runCommand(invocation: CommandInvocation, record: InstanceRecord): Promise<void> {
    const { fleet, virtual, regionId, accountId, secondMs } = this.#options;
    const { command } = invocation;
    const id = record.instanceId;
    const isVirtual = virtual.get(id) !== undefined;
    const workingDir = command.workingDir !== '' && command.workingDir !== '/root' ? command.workingDir : undefined;
    // A virtual instance has every directory.
    if (workingDir !== undefined && !isVirtual) {
      const check = await fleet.exec(id, ['test', '-d', workingDir], { timeoutMs: 10_000 });
      if (check.exitCode !== 0) {
        this.#finish(invocation, record, 'Failed', { errorCode: 'DirectoryNotExists', errorInfo: 'the specified directory does not exists' });
        return;
      }
    }
    // Stopped, or the emulator closed, while the directory was checked.
    if (record.stopRequested || this.#closing.signal.aborted) {
      this.#finish(invocation, record, 'Terminated', { errorCode: '', errorInfo: '' });
      return;
    }
    const timeoutMs = command.timeoutSeconds * secondMs;
    const token = randomUUID();
    if (isVirtual) {
      const stop = new AbortController();
      const run = virtual.run(id, command.content, command.enableParameter ? (command.parameters ?? {}) : {}, { timeoutMs, signal: stop.signal, hang: record.faults.hang });
      this.#runs.set(record, { token, done: run.catch(() => {}), stop });
      try {
        this.#conclude(invocation, record, await run);
      } finally {
        this.#runs.delete(record);
      }
      return;
    }
    // The sandbox runs in /root; another WorkingDir is entered first, its path passed by environment
    // so that no request value becomes script text (and no {{…}} in it is substituted).
    const script = record.faults.hang
      ? `exec sleep ${Math.ceil(timeoutMs / 1000) + 60}`
      : `${workingDir === undefined ? '' : `cd "$${WORKING_DIR_VARIABLE}" || exit 1\n`}${command.content}`;
    const run = fleet.runScript(id, script, {
      // Without EnableParameter nothing is substituted, built-ins included: `{{x}}` stays text.
      parameters: command.enableParameter ? command.parameters : {},
      builtins: command.enableParameter
        ? { regionId, accountId, instanceId: id, instanceName: id, invokeId: invocation.invokeId, commandId: command.commandId }
        : { instanceId: undefined },
      timeoutMs,
      env: { [RUN_MARKER]: token, ...(workingDir === undefined ? {} : { [WORKING_DIR_VARIABLE]: workingDir }) },
    });
    this.#runs.set(record, { token, done: run.catch(() => {}) });
    let result: RunResult;
    try {
      result = await run;
    } finally {
      this.#runs.delete(record);
    }
    this.#conclude(invocation, record, result);
  }

  /** How a run ended, as the instance's output, exit code and final status. */
  #conclude(invocation: CommandInvocation, record: InstanceRecord, result: RunResult): void {
    // Cloud Assistant returns one output; the sandbox keeps the streams apart, so stderr follows stdout.
    const output = Buffer.concat([result.stdout, result.stderr]);
    record.output = output.subarray(0, OUTPUT_LIMIT_BYTES);
    record.dropped = Math.max(0, output.length - OUTPUT_LIMIT_BYTES);
    if (result.exitCode !== null) record.exitCode = result.exitCode;
    if (record.stopRequested) this.#finish(invocation, record, 'Terminated', { errorCode: '', errorInfo: '' });
    else if (result.timedOut) this.#finish(invocation, record, 'Timeout', { errorCode: 'ExecutionTimeout', errorInfo: 'the command execution has been timeout' });
    else if (result.exitCode === 0) this.#finish(invocation, record, 'Success', { errorCode: '', errorInfo: '' });
    else if (result.exitCode === null) this.#finish(invocation, record, 'Error', { errorCode: 'ExecutionInterrupted', errorInfo: 'the command execution has been interrupted' });
    else this.#finish(invocation, record, 'Failed', { errorCode: 'ExitCodeNonzero', errorInfo: 'the command execution exit code is not zero' });
  }

  async #writeFile(invocation: FileInvocation, record: InstanceRecord): Promise<void> {
    const { fleet, secondMs } = this.#options;
    const { file } = invocation;
    // Nothing to write to on a virtual instance: the send succeeds, as it would on a healthy one.
    if (this.#options.virtual.get(record.instanceId) !== undefined) {
      this.#finish(invocation, record, 'Success', { errorCode: '', errorInfo: '' });
      return;
    }
    if (file.name === '.' || file.name === '..' || /[/\0]/.test(file.name)) {
      this.#finish(invocation, record, 'Failed', { errorCode: 'FileNameInvalid', errorInfo: 'the file name is invalid: it must not be . or .. or hold a /' });
      return;
    }
    const result = await fleet.exec(
      record.instanceId,
      ['sh', '-c', WRITE_FILE_SCRIPT, 'sh', file.targetDir, file.name, file.fileMode, file.fileOwner, file.fileGroup, String(file.overwrite)],
      { input: file.content, timeoutMs: file.timeoutSeconds * secondMs },
    );
    if (result.timedOut) this.#finish(invocation, record, 'Timeout', { errorCode: 'ExecutionTimeout', errorInfo: 'the file sending has been timeout' });
    else if (result.exitCode === 0) this.#finish(invocation, record, 'Success', { errorCode: '', errorInfo: '' });
    else {
      const known = WRITE_FILE_ERRORS.get(result.exitCode ?? -1);
      this.#finish(invocation, record, 'Failed', known ?? { errorCode: 'ExecutionException', errorInfo: `writing the file failed: ${result.stderr.toString('utf8').trim()}` });
    }
  }

  /** Kills a run's processes until it has ended (its process may not have started yet when asked). */
  async #kill(record: InstanceRecord): Promise<void> {
    for (let attempt = 0; attempt < 40 && !FINAL_STATUSES.has(record.status); attempt++) {
      const run = this.#runs.get(record);
      if (run === undefined) {
        await sleep(50);
        continue;
      }
      if (run.stop !== undefined) {
        run.stop.abort();
        await run.done;
        continue;
      }
      await this.#options.fleet.exec(record.instanceId, ['sh', '-c', KILL_RUN_SCRIPT, 'sh', `${RUN_MARKER}=${run.token}`], { timeoutMs: 10_000 }).catch(() => {});
      await Promise.race([run.done, sleep(250)]);
    }
  }

  #finish(invocation: Invocation, record: InstanceRecord, status: InstanceStatus, details: { errorCode: string; errorInfo: string }): void {
    if (FINAL_STATUSES.has(record.status)) return;
    record.status = status;
    record.errorCode = details.errorCode;
    record.errorInfo = details.errorInfo;
    record.finishedTime = new Date();
    record.updateTime = record.finishedTime;
    if (invocation.kind === 'command' && !record.faults.lostResult && TASK_COMPLETED_STATUSES.has(status)) {
      this.#options.onTaskCompleted?.(invocation, record);
    }
  }
}
