import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { RollcallError } from '../../config/errors.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { chatDeliveries, chatEnvironment, chatRobots, newChatApps, type ChatPaths } from './chat-apps.js';
import { startServing } from './serve.js';

export interface DevOptions {
  /** The desired-state folder to start from (the checkout's own, never written to). */
  dir: string;
  port: number;
  /** Instances made for each hostgroup selected by tags. */
  instancesPerTag: number;
  stopped?: Promise<unknown>;
  onStarted?: (dev: { url: string; repo: string; endpoint: string; chat: string; eventbridge: string }) => void;
}

const run = promisify(execFile);

/**
 * `rollcall dev` (`npm start`): the whole loop on one machine. The ECS API emulator serves sandbox
 * instances shaped like fleet.yaml (each tag hostgroup gets instances with its tags, each id
 * hostgroup its ids); a scratch git repository starts as a copy of desired-state/ (the checkout
 * is never committed into); `serve` watches it. Ctrl-C stops everything and removes it all.
 */
export async function devCommand(options: DevOptions, io: CliIo): Promise<number> {
  const [{ sandboxSupport }, { startEcsEmulator }, { startChatEmulator }, { startEventBridgeEmulator }] = await Promise.all([
    import('../../emulators/ecs/sandbox/sandbox-support.js'),
    import('../../emulators/ecs/ecs-emulator.js'),
    import('../../emulators/chat/chat-emulator.js'),
    import('../../emulators/eventbridge/eventbridge-emulator.js'),
  ]);
  const support = await sandboxSupport();
  if (!support.ok) throw new RollcallError('invalid-input', `rollcall dev runs the fleet as sandbox instances on this machine, which needs root and Linux namespaces: ${support.reason}`);

  const source = path.resolve(io.cwd, options.dir);
  const fleet = parse(await readFile(path.join(source, 'fleet.yaml'), 'utf8').catch(() => {
    throw new RollcallError('invalid-input', `no fleet.yaml in ${source}: run rollcall dev from rollcall's checkout, or pass --dir`);
  })) as { region?: string; hostgroups?: Record<string, { tags?: Record<string, string>; instanceIds?: string[] }> };
  const instances: { id: string; tags: Record<string, string> }[] = [];
  for (const [name, group] of Object.entries(fleet.hostgroups ?? {})) {
    for (const id of group.instanceIds ?? []) if (!instances.some((instance) => instance.id === id)) instances.push({ id, tags: { hostgroup: name } });
    if (group.tags && Object.keys(group.tags).length > 0) {
      for (let n = 1; n <= options.instancesPerTag; n++) instances.push({ id: `i-dev${name.replace(/[^a-z0-9]/g, '')}${String(n).padStart(4, '0')}`, tags: { ...group.tags } });
    }
  }

  const scratch = await mkdtemp(path.join(tmpdir(), 'rollcall-dev-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(scratch, { recursive: true, force: true })];
  try {
    const repo = path.join(scratch, 'repo');
    const folder = path.basename(source);
    await cp(source, path.join(repo, folder), { recursive: true });
    const git = (...args: string[]) => run('git', args, { cwd: repo, env: { ...io.env, GIT_AUTHOR_NAME: 'rollcall dev', GIT_AUTHOR_EMAIL: 'dev@rollcall.invalid', GIT_COMMITTER_NAME: 'rollcall dev', GIT_COMMITTER_EMAIL: 'dev@rollcall.invalid' } });
    await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    await git('commit', '-q', '-m', `Start from ${source}`);

    const port = options.port === 0 ? await freePort() : options.port;
    const rollcallUrl = `http://127.0.0.1:${port}`;
    // The cloud plumbing as production has it: the stack `npm run synth` makes, synthesized for
    // this rollcall, and an EventBridge emulator running its rules (not a copy of them).
    const eventSecret = randomBytes(16).toString('hex');
    const stackFile = await synthesizeStack(scratch, { ...io.env, ROLLCALL_PUBLIC_URL: rollcallUrl, ROLLCALL_EVENTBRIDGE_SECRET: eventSecret, ROLLCALL_REGION: fleet.region ?? 'cn-hangzhou' });
    const bus = await startEventBridgeEmulator({ rules: stackFile, ...(fleet.region ? { regionId: fleet.region } : {}), log: io.log.child({ emulator: 'eventbridge' }) });
    cleanups.unshift(() => bus.close());
    const emulator = await startEcsEmulator({
      ...(fleet.region ? { regionId: fleet.region } : {}),
      instances,
      // Cloud Assistant's events (TaskCompleted, FirstHeartbeat) go to the default bus, whose rules send them on to rollcall.
      eventsUrl: bus.publishUrl,
    });
    cleanups.unshift(() => emulator.close());
    // Roles may name groups without a gid, which must exist on the host (docker, say): a real
    // fleet's image has them, so the sandbox instances get them too.
    const hostGroups = await groupsWithoutGid(path.join(source, 'roles'));
    for (const id of emulator.instances) {
      for (const group of hostGroups) await emulator.fleet.exec(id, ['sh', '-c', `getent group ${group} >/dev/null || groupadd ${group}`]);
    }
    // Both platforms post their signed callbacks to the stack's HTTPS event sources, as their event
    // subscriptions do in production; the approvals rule brings them to rollcall, which verifies them.
    const apps = newChatApps();
    const paths: ChatPaths = { dingtalk: 'eventbridge', lark: 'eventbridge' };
    const chat = await startChatEmulator({
      dingtalk: { appKey: apps.dingtalk.appKey, appSecret: apps.dingtalk.appSecret },
      lark: { appId: apps.lark.appId, appSecret: apps.lark.appSecret, verificationToken: apps.lark.verificationToken },
      robots: chatRobots(apps),
      deliveries: chatDeliveries(apps, paths, rollcallUrl, { dingtalk: bus.webhookUrl('dingtalk.approval'), lark: bus.webhookUrl('lark.approval') }),
    });
    cleanups.unshift(() => chat.close());
    const env = {
      ...io.env,
      ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.accessKeySecret,
      ...chatEnvironment(apps, paths, chat),
      // The groups' messages link to the status page, here on this machine.
      ROLLCALL_PUBLIC_URL: io.env.ROLLCALL_PUBLIC_URL || rollcallUrl,
      ROLLCALL_EVENTBRIDGE_SECRET: eventSecret,
      // rollcall's own events (Request:Committed, Revision:Applied, …) on the stack's bus.
      ROLLCALL_EVENT_BUS: bus.buses.find((candidate) => candidate.declared)?.name ?? 'default',
      ROLLCALL_EVENT_BUS_ENDPOINT: bus.url,
      ROLLCALL_EVENT_BUS_ACCESS_KEY_ID: bus.accessKeyId,
      ROLLCALL_EVENT_BUS_ACCESS_KEY_SECRET: bus.accessKeySecret,
    };
    const daemon = await startServing(
      { repo, path: folder, port, stateDir: path.join(scratch, 'state'), fleetFlags: { endpoint: emulator.endpoint } },
      { ...io, env },
    );
    cleanups.unshift(() => daemon.stop());
    io.stdout.write(`${JSON.stringify({ url: daemon.url, repo, endpoint: emulator.endpoint, chat: chat.url, eventbridge: bus.url, instances: emulator.instances })}\n`);
    io.stdout.write(guide({ url: daemon.url, repo, folder, endpoint: emulator.endpoint, chat: chat.url, eventbridge: bus.url, stack: stackFile, instances: emulator.instances, stateDir: path.join(scratch, 'state') }));
    options.onStarted?.({ url: daemon.url, repo, endpoint: emulator.endpoint, chat: chat.url, eventbridge: bus.url });
    void daemon.reconciler.idle().then(() => {
      const status = daemon.status();
      io.stdout.write(`\n[${new Date().toLocaleTimeString()}] ${status.state}: ${status.message.split('\n')[0]}\n`);
    });
    await (options.stopped ?? Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]));
    io.stdout.write('stopping: the daemon, the emulator and its sandbox instances, the scratch repository\n');
    return EXIT.ok;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => io.log.warn({ err: error }, 'while stopping'));
  }
}

/** The checkout: stacks/ and the cdktf app live next to src/. */
const CHECKOUT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Runs the cdktf app exactly as `npm run synth` does, writing into `scratch`, and returns the
 * synthesized Terraform JSON's path. Its configuration comes from `env` (stacks/stack-config.ts).
 */
async function synthesizeStack(scratch: string, env: NodeJS.ProcessEnv): Promise<string> {
  const outdir = path.join(scratch, 'cdktf.out');
  try {
    await run(process.execPath, ['--import', 'tsx', path.join(CHECKOUT, 'stacks/main.ts')], { cwd: CHECKOUT, env: { ...env, ROLLCALL_STACK_CONFIG: '', CDKTF_OUTDIR: outdir } });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new RollcallError('invalid-input', `could not synthesize the stack for the EventBridge emulator: ${stderr || (error as Error).message}`);
  }
  return path.join(outdir, 'stacks', 'rollcall', 'cdk.tf.json');
}

async function groupsWithoutGid(rolesDir: string): Promise<string[]> {
  const groups = new Set<string>();
  for (const file of await readdir(rolesDir).catch(() => [] as string[])) {
    if (!/\.ya?ml$/.test(file)) continue;
    const role = parse(await readFile(path.join(rolesDir, file), 'utf8')) as { groups?: { name?: unknown; gid?: unknown }[] } | null;
    for (const group of role?.groups ?? []) if (typeof group.name === 'string' && /^[a-z_][a-z0-9_-]*$/.test(group.name) && group.gid === undefined) groups.add(group.name);
  }
  return [...groups].sort();
}

function guide(where: { url: string; repo: string; folder: string; endpoint: string; chat: string; eventbridge: string; stack: string; instances: string[]; stateDir: string }): string {
  const user = `${where.folder}/users/E1001.yaml`;
  return `
rollcall dev is running: the whole loop on this machine.

  rollcall        ${where.url}   (/status, /metrics, /healthz, /readyz)
  ECS API         ${where.endpoint}   (emulator; instances: ${where.instances.join(', ')})
  DingTalk, Lark  ${where.chat}   (emulator: approvals posted to the stack's EventBridge HTTPS sources)
  the groups      ${where.chat}/chat   (what rollcall posts to ops-dingtalk and ops-lark, live)
  EventBridge     ${where.eventbridge}   (emulator running the rules of ${where.stack}; /emulator/events, /emulator/deliveries)
  scratch repo    ${where.repo}   (a copy of ${where.folder}/; commit here, never in the checkout)
  state dir       ${where.stateDir}

Approve a request the way HR would in DingTalk, and watch it become a commit, then accounts:
  npx rollcall approve --emulator ${where.chat} --platform dingtalk --flow onboard \\
      --field empId=E2001 --field login=qianjiu --field name="Qian Jiu" --field role=devops
  npx rollcall history E2001 --repo ${where.repo} --path ${where.folder}

Or make a change by hand and watch it converge:
  cd ${where.repo}
  echo 'shell: /bin/sh' >> ${user}    # or edit any user or role file
  git commit -qam "Give E1001 /bin/sh"
  npx rollcall status --url ${where.url}
  npx rollcall history E1001 --repo ${where.repo} --path ${where.folder}
  npx rollcall lock --now E1002 --reason "laptop stolen" --repo ${where.repo} --path ${where.folder} --url ${where.url}

Ctrl-C stops everything and removes the scratch repo and the instances.
`;
}

/** A port free right now on 127.0.0.1 (the emulator must know rollcall's address before it starts). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
