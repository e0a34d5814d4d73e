import { createServer, type Server } from 'node:http';
import { AGENT_COMMAND_NAME, AGENT_INSTALL_PATH, AGENT_SCRIPT, agentStub } from '../../agent/agent-script.js';
import { ClientTokens } from './client-tokens.js';
import { DEFAULT_TIMEOUT_SECONDS } from './cloud-assistant-limits.js';
import { CommandStore } from './commands.js';
import { servedInstances, type EcsContext } from './ecs-context.js';
import { Faults } from './faults.js';
import { firstHeartbeatEvent } from './first-heartbeat-event.js';
import { createRequestHandler } from './handle-request.js';
import { Invocations } from './invocations.js';
import { ReplayGuard } from './replay-guard.js';
import { RunQueue } from './run-queue.js';
import { SandboxFleet, type CreateInstanceOptions } from './sandbox/sandbox-fleet.js';
import { EventPoster, taskCompletedEvent } from './task-completed-event.js';
import { VirtualInstances, VirtualInstancesError, type VirtualInstanceOptions, type VirtualRunner } from './virtual-instances.js';
import { generateAccessKey, listenOnLoopback, type AccessKeyPair } from '../local-server.js';


/** How to start the emulator; every field is optional. */
export interface EcsEmulatorOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Default cn-hangzhou. Requests for another region get `InvalidRegionId.NotFound`. */
  regionId?: string;
  /** For `{{ACS::AccountId}}` and the events. Default 1234567890123456. */
  accountId?: string;
  /** The AccessKey pairs accepted; default one pair, generated. The first is the emulator's `accessKeyId`/`accessKeySecret`. */
  accessKeys?: readonly AccessKeyPair[];
  /** Instances to serve, already running; the emulator then leaves the fleet up on `close`. */
  fleet?: SandboxFleet;
  /** Instances to create (in a fleet of the emulator's own, unless `fleet` is given). */
  instances?: readonly CreateInstanceOptions[];
  /**
   * Instances that exist for the API but have no sandbox behind them: `runner` answers their runs.
   * Their ids must differ from the fleet's.
   */
  virtualInstances?: readonly VirtualInstanceOptions[];
  /** Answers the runs of the virtual instances (required with `virtualInstances`). */
  runner?: VirtualRunner;
  /**
   * Where Cloud Assistant's CloudEvents go: `ecs:CloudAssistant:TaskCompleted` each time an
   * instance's run of a command ends, `ecs:CloudAssistant:FirstHeartbeat` for each instance
   * `addInstance` creates.
   */
  eventsUrl?: string;
  /**
   * @deprecated Use `eventsUrl`. Where TaskCompleted events (only those) go; `eventsUrl` wins when
   * both are given.
   */
  taskCompletedUrl?: string;
  /** Register the `rollcall-agent` command (the agent stub, with parameters), as the stack does in production. Default true. */
  preloadAgentCommand?: boolean;
  /** Put the agent at its install path on every instance at start. Default true. */
  installAgent?: boolean;
  /** Runs at once across all instances; more wait as Pending. Default 16. */
  concurrency?: number;
  /** Told of each request as soon as its action is known (before faults and the action itself), with the time it arrived. */
  onRequest?: (action: string, receivedAt: number) => void;
  /** Seed of the throttling randomness: the same seed, the same sequence of throttled calls. */
  seed?: number;
  /**
   * How many real milliseconds one second of the API's clock lasts: Timeout and the delivery
   * deadline of an aborted instance are measured with it. Default 1000; tests shrink it so that
   * `Timeout: 10` (the smallest the API takes) is over in a second.
   */
  secondMs?: number;
}

/** A running ECS API emulator. */
export interface EcsEmulator {
  /** `127.0.0.1:PORT`: the SDK's `endpoint` (with `protocol: 'http'`). */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly accessKeys: readonly AccessKeyPair[];
  readonly regionId: string;
  readonly accountId: string;
  /** Ids of the instances served now: the fleet's and the virtual ones. */
  readonly instances: string[];
  /**
   * Requests received per action (`RunCommand` → 12), throttled and refused ones included, as the
   * cloud would count them; `clear()` it to count afresh.
   */
  readonly calls: Map<string, number>;
  /** Faults to inject, changeable at any time. */
  readonly faults: Faults;
  readonly fleet: SandboxFleet;
  /**
   * Every run of a command on an instance the emulator started, oldest first: what a test checks
   * for duplicates (the same parameters run twice on one instance).
   */
  runs(): CommandRun[];
  /** The CommandId of the preloaded `rollcall-agent` command, if preloaded. */
  readonly agentCommandId: string | undefined;
  /** Puts the agent at its install path on one instance (for instances created after start). */
  installAgent(instanceId: string): Promise<void>;
  /**
   * A new instance, as if just launched: a sandbox instance in the fleet (the agent installed when
   * `installAgent` is on), listed by DescribeInstances from now on, and its `FirstHeartbeat`
   * posted to `eventsUrl` (in the background: `flushEvents()` waits for it). Resolves to its id.
   */
  addInstance(options?: CreateInstanceOptions): Promise<string>;
  /** Releases a sandbox instance: it leaves DescribeInstances, and runs still going on it end `Error` (`InstanceReleased`). */
  removeInstance(instanceId: string): Promise<void>;
  /** Waits until every event so far has been posted (or given up on). */
  flushEvents(): Promise<void>;
  /** Stops serving, kills runs still going, posts pending events, and destroys the fleet if the emulator made it. */
  close(): Promise<void>;
}

/** One instance's run of a command, as `runs()` lists it. */
export interface CommandRun {
  invokeId: string;
  commandName: string;
  instanceId: string;
  parameters: Record<string, string>;
  createdAt: Date;
}

const DEFAULT_REGION = 'cn-hangzhou';
const DEFAULT_ACCOUNT = '1234567890123456';
const DEFAULT_CONCURRENCY = 16;

/**
 * Starts the ECS API emulator: a `node:http` server on 127.0.0.1 that the real
 * `@alicloud/ecs20140526` SDK talks to unchanged, backed by sandbox instances (see README.md).
 *
 * ```ts
 * const ecs = await startEcsEmulator({ instances: [{ tags: { app: 'web' } }] });
 * const client = new Ecs(new Config({ accessKeyId: ecs.accessKeyId, accessKeySecret: ecs.accessKeySecret,
 *   regionId: ecs.regionId, endpoint: ecs.endpoint, protocol: 'http' }));
 * ```
 *
 * Needs what sandbox instances need (Linux, root); throws SandboxUnavailableError otherwise.
 */
export async function startEcsEmulator(options: EcsEmulatorOptions = {}): Promise<EcsEmulator> {
  const regionId = options.regionId ?? DEFAULT_REGION;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const accessKeys = options.accessKeys && options.accessKeys.length > 0 ? [...options.accessKeys] : [generateAccessKey()];
  const secrets = new Map(accessKeys.map((key) => [key.accessKeyId, key.accessKeySecret]));
  // Checked before a fleet is made, so that a bad list leaves nothing behind.
  const virtual = new VirtualInstances(options.virtualInstances, options.runner);
  const calls = new Map<string, number>();
  const ownsFleet = options.fleet === undefined;
  const fleet = options.fleet ?? (await SandboxFleet.create());
  const faults = new Faults(options.seed);
  const eventsUrl = options.eventsUrl ?? options.taskCompletedUrl;
  const poster = eventsUrl === undefined ? undefined : new EventPoster(eventsUrl);
  // The deprecated taskCompletedUrl gets TaskCompleted events only, as before eventsUrl existed.
  const heartbeats = options.eventsUrl === undefined ? undefined : poster;
  const installsAgent = options.installAgent ?? true;
  const invocations = new Invocations({
    fleet,
    virtual,
    faults,
    queue: new RunQueue(options.concurrency ?? DEFAULT_CONCURRENCY),
    regionId,
    accountId,
    secondMs: options.secondMs ?? 1000,
    onTaskCompleted: (invocation, record) =>
      poster?.post(
        taskCompletedEvent({
          accountId,
          regionId,
          invokeId: invocation.invokeId,
          commandId: invocation.command.commandId,
          commandName: invocation.command.commandName,
          instanceId: record.instanceId,
          invocationStatus: record.status,
          exitCode: record.exitCode,
          finishTime: record.finishedTime ?? new Date(),
        }),
      ),
  });
  const context: EcsContext = { regionId, accountId, fleet, virtual, faults, commands: new CommandStore(), invocations, clientTokens: new ClientTokens() };
  const installAgent = (instanceId: string) => installAgentOn(fleet, instanceId);

  let server: Server | undefined;
  try {
    await Promise.all((options.instances ?? []).map((instance) => fleet.createInstance(instance)));
    const taken = virtual.list().find((instance) => fleet.get(instance.id) !== undefined);
    if (taken !== undefined) throw new VirtualInstancesError(`virtual instance ${taken.id} has the id of a sandbox instance of the fleet`);
    if (installsAgent) await Promise.all(fleet.list().map((instance) => installAgent(instance.id)));
    const agentCommandId =
      (options.preloadAgentCommand ?? true)
        ? context.commands.add({
            name: AGENT_COMMAND_NAME,
            description: 'rollcall agent: inventory and apply (registered by the stack in production)',
            type: 'RunShellScript',
            content: agentStub(),
            enableParameter: true,
            timeout: DEFAULT_TIMEOUT_SECONDS,
            workingDir: '',
          }).commandId
        : undefined;
    // A 24 KB script in the query string makes the URL longer than Node's default 16 KiB header limit.
    server = createServer({ maxHeaderSize: 256 * 1024 }, createRequestHandler({ context, secretOf: (id) => secrets.get(id), replayGuard: new ReplayGuard(), calls, ...(options.onRequest ? { onRequest: options.onRequest } : {}) }));
    const port = await listenOnLoopback(server, options.port ?? 0);
    const listening = server;

    let closing: Promise<void> | undefined;
    const addInstance = async (instance: CreateInstanceOptions = {}) => {
      if (closing !== undefined) throw new Error('the emulator is closed: addInstance needs a running one');
      if (instance.id !== undefined && virtual.get(instance.id) !== undefined) {
        throw new VirtualInstancesError(`instance ${instance.id} exists already as a virtual instance: choose another id`);
      }
      const { id } = await fleet.createInstance(instance);
      if (installsAgent) {
        try {
          await installAgent(id);
        } catch (error) {
          await fleet.destroyInstance(id);
          throw error;
        }
      }
      // Posted once the instance is listed and ready, so a receiver that reacts with DescribeInstances or a run finds it.
      heartbeats?.post(firstHeartbeatEvent({ accountId, regionId, instanceId: id, firstHeartbeatTime: new Date() }));
      return id;
    };
    const removeInstance = async (instanceId: string) => {
      if (virtual.get(instanceId) !== undefined) throw new VirtualInstancesError(`instance ${instanceId} is a virtual instance: removeInstance releases sandbox instances only`);
      await fleet.destroyInstance(instanceId);
    };
    const close = () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          listening.close(() => resolve());
          listening.closeAllConnections();
        });
        await invocations.close();
        await poster?.flush();
        if (ownsFleet) await fleet.destroyAll();
      })();
      return closing;
    };

    return {
      endpoint: `127.0.0.1:${port}`,
      accessKeyId: accessKeys[0]!.accessKeyId,
      accessKeySecret: accessKeys[0]!.accessKeySecret,
      accessKeys,
      regionId,
      accountId,
      get instances() {
        return servedInstances(context).map((instance) => instance.id);
      },
      calls,
      faults,
      fleet,
      runs: () =>
        invocations
          .commandInvocations()
          .reverse()
          .flatMap((invocation) =>
            [...invocation.instances.values()].map((record) => ({
              invokeId: invocation.invokeId,
              commandName: invocation.command.commandName,
              instanceId: record.instanceId,
              parameters: { ...(invocation.command.parameters ?? {}) },
              createdAt: invocation.creationTime,
            })),
          ),
      agentCommandId,
      installAgent,
      addInstance,
      removeInstance,
      flushEvents: async () => poster?.flush(),
      close,
    };
  } catch (error) {
    server?.close();
    if (ownsFleet) await fleet.destroyAll();
    throw error;
  }
}

/** Writes the agent, root-only, at its install path, as the executor's SendFile would. */
async function installAgentOn(fleet: SandboxFleet, instanceId: string): Promise<void> {
  const dir = AGENT_INSTALL_PATH.slice(0, AGENT_INSTALL_PATH.lastIndexOf('/'));
  const result = await fleet.exec(instanceId, ['sh', '-c', 'mkdir -p -m 700 -- "$1" && cat >"$2" && chmod 700 -- "$2"', 'sh', dir, AGENT_INSTALL_PATH], { input: AGENT_SCRIPT });
  if (result.exitCode !== 0) throw new Error(`installing the agent on ${instanceId} failed (exit ${result.exitCode}): ${result.stderr.toString('utf8').trim()}`);
}
