import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RollcallError } from '../../config/errors.js';
import { CLOUD_EVENT_SOURCES } from '../../ingress/eventbridge/cloud-events.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { chatDeliveries, chatEnvironment, chatRobots, newChatApps, type ChatPaths } from './chat-apps.js';

export interface EmulateOptions {
  target: string;
  /** chat: rollcall's base URL, for HTTP callbacks. */
  deliverTo?: string;
  /** chat: how each platform delivers (default: DingTalk Stream mode and Lark's long connection, which need no URL). */
  dingtalkVia?: string;
  larkVia?: string;
  /** chat: the EventBridge emulator whose HTTPS sources the `eventbridge` paths post to. */
  eventbridge?: string;
  port: number;
  instances: number;
  tags: Record<string, string>;
  region?: string;
  /** eventbridge: the synthesized stack's `cdk.tf.json` (default: the one under cdktf.out/stacks/, if any). */
  rules?: string;
  /** eventbridge: `FROM=TO` URL prefixes: targets of the stack that point at FROM are sent to TO. */
  redirects?: readonly string[];
  /** Resolves when the emulator should stop: SIGTERM or SIGINT by default. */
  stopped?: Promise<unknown>;
}

/**
 * `rollcall emulate ecs|chat|eventbridge`: one emulator alone, in the foreground. Its address (and
 * for ecs and eventbridge its AccessKey pair, for chat the apps' credentials as the ROLLCALL_*
 * variables a rollcall needs, for eventbridge its HTTP sources' webhooks) go to stdout as one JSON
 * line (so `--port 0` can be used by a script); it serves until SIGTERM.
 */
export async function emulateCommand(options: EmulateOptions, io: CliIo): Promise<number> {
  if (options.target !== 'ecs' && options.target !== 'chat' && options.target !== 'eventbridge') {
    io.stderr.write(`rollcall emulate: no ${options.target || '(missing)'} emulator: emulate ecs, chat or eventbridge\n`);
    return EXIT.usage;
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new RollcallError('invalid-input', '--port must be a port number from 0 to 65535 (0 picks a free one)');
  }
  if (options.target === 'chat') return emulateChat(options, io);
  if (options.target === 'eventbridge') return emulateEventBridge(options, io);
  if (!Number.isInteger(options.instances) || options.instances < 0 || options.instances > 200) {
    throw new RollcallError('invalid-input', '--instances must be a whole number from 0 to 200');
  }
  // Loaded here, not at start-up: only this command needs the emulator.
  const { startEcsEmulator } = await import('../../emulators/ecs/ecs-emulator.js');
  const emulator = await startEcsEmulator({
    port: options.port,
    ...(options.region ? { regionId: options.region } : {}),
    instances: Array.from({ length: options.instances }, () => ({ tags: options.tags })),
  });
  io.stdout.write(
    `${JSON.stringify({ endpoint: emulator.endpoint, accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret, regionId: emulator.regionId, instances: emulator.instances })}\n`,
  );
  io.log.info({ endpoint: emulator.endpoint, instances: emulator.instances.length, stateDir: emulator.fleet.stateDir }, 'ECS API emulator serving');
  await (options.stopped ?? Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]));
  await emulator.close();
  io.log.info('ECS API emulator stopped');
  return EXIT.ok;
}

async function emulateChat(options: EmulateOptions, io: CliIo): Promise<number> {
  const paths: ChatPaths = {
    dingtalk: pick(options.dingtalkVia ?? (options.deliverTo ? 'http' : 'stream'), ['http', 'stream', 'eventbridge'], '--dingtalk-via'),
    lark: pick(options.larkVia ?? (options.deliverTo ? 'http' : 'long-connection'), ['http', 'long-connection', 'eventbridge'], '--lark-via'),
  };
  if ((paths.dingtalk === 'http' || paths.lark === 'http') && !options.deliverTo) {
    throw new RollcallError('invalid-input', "HTTP callbacks need rollcall's address: pass --deliver-to http://HOST:PORT (the URL rollcall serve printed)");
  }
  const sourceUrls = paths.dingtalk === 'eventbridge' || paths.lark === 'eventbridge' ? await eventSourceUrls(options.eventbridge) : {};
  const { startChatEmulator } = await import('../../emulators/chat/chat-emulator.js');
  const apps = newChatApps();
  const emulator = await startChatEmulator({
    port: options.port,
    dingtalk: { appKey: apps.dingtalk.appKey, appSecret: apps.dingtalk.appSecret },
    lark: { appId: apps.lark.appId, appSecret: apps.lark.appSecret, verificationToken: apps.lark.verificationToken },
    robots: chatRobots(apps),
  });
  emulator.configureDeliveries(chatDeliveries(apps, paths, options.deliverTo ?? 'http://127.0.0.1', sourceUrls));
  const endpoint = emulator.url.replace(/^http:\/\//, '');
  io.stdout.write(`${JSON.stringify({ endpoint, url: emulator.url, paths, env: chatEnvironment(apps, paths, emulator) })}\n`);
  io.log.info({ url: emulator.url, paths }, 'chat emulator serving: start rollcall serve with the env above, then rollcall approve --emulator URL');
  await (options.stopped ?? Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]));
  await emulator.close();
  io.log.info('chat emulator stopped');
  return EXIT.ok;
}

/** The webhook URLs of the approval sources of the EventBridge emulator at `busUrl` (its `GET /emulator`). */
async function eventSourceUrls(busUrl: string | undefined): Promise<{ dingtalk?: string; lark?: string }> {
  if (!busUrl) throw new RollcallError('invalid-input', '--dingtalk-via/--lark-via eventbridge posts to the bus\'s HTTPS sources: pass --eventbridge http://HOST:PORT (the URL rollcall emulate eventbridge printed)');
  let summary: { sources?: { name?: string; webhookUrl?: string }[] };
  try {
    summary = (await (await fetch(new URL('/emulator', busUrl))).json()) as typeof summary;
  } catch (error) {
    throw new RollcallError('invalid-input', `--eventbridge ${busUrl}: no EventBridge emulator answers there (${(error as Error).message}): start rollcall emulate eventbridge and pass the URL it printed`);
  }
  const url = (name: string) => summary.sources?.find((source) => source.name === name)?.webhookUrl;
  const dingtalk = url(CLOUD_EVENT_SOURCES.dingtalk);
  const lark = url(CLOUD_EVENT_SOURCES.lark);
  return { ...(dingtalk ? { dingtalk } : {}), ...(lark ? { lark } : {}) };
}

async function emulateEventBridge(options: EmulateOptions, io: CliIo): Promise<number> {
  const redirects = parsePairs(options.redirects ?? [], '--redirect', 'FROM=TO (URL prefixes)');
  const rules = options.rules !== undefined ? resolve(io.cwd, options.rules) : synthesizedRules(io.cwd);
  if (rules === undefined) io.log.warn({ looked: join(io.cwd, 'cdktf.out', 'stacks') }, 'EventBridge emulator: no cdk.tf.json found (run npm run synth, or pass --rules): serving the default bus with no rules');
  const { startEventBridgeEmulator } = await import('../../emulators/eventbridge/eventbridge-emulator.js');
  const emulator = await startEventBridgeEmulator({
    port: options.port,
    ...(rules !== undefined ? { rules } : {}),
    env: io.env,
    redirects,
    ...(options.region ? { regionId: options.region } : {}),
    log: io.log,
  });
  io.stdout.write(
    `${JSON.stringify({
      endpoint: emulator.endpoint,
      url: emulator.url,
      accessKeyId: emulator.accessKeyId,
      accessKeySecret: emulator.accessKeySecret,
      regionId: emulator.regionId,
      accountId: emulator.accountId,
      buses: emulator.buses.map((bus) => bus.name),
      rules: emulator.rules.map((rule) => `${rule.busName}/${rule.name}`),
      sources: Object.fromEntries(emulator.sources.map((source) => [source.name, source.webhookUrl])),
      publishUrl: emulator.publishUrl,
    })}\n`,
  );
  io.log.info({ url: emulator.url, rules: rules ?? null, ruleCount: emulator.rules.length }, 'EventBridge emulator serving');
  await (options.stopped ?? Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]));
  await emulator.close();
  io.log.info('EventBridge emulator stopped');
  return EXIT.ok;
}

/** The one `cdktf.out/stacks/<stack>/cdk.tf.json` under `cwd`; undefined when there is none. */
function synthesizedRules(cwd: string): string | undefined {
  const dir = join(cwd, 'cdktf.out', 'stacks');
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .map((stack) => join(dir, stack, 'cdk.tf.json'))
    .filter((file) => existsSync(file));
  if (files.length > 1) throw new RollcallError('invalid-input', `cdktf.out/stacks has ${files.length} stacks (${files.join(', ')}): pass --rules with the one to run`);
  return files[0];
}

/** `FROM=TO` flags as a map; a flag without `=` is an error that says how to write it. */
function parsePairs(values: readonly string[], flag: string, shape: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0 || at === value.length - 1) throw new RollcallError('invalid-input', `${flag} ${value}: write it as ${shape}`);
    pairs[value.slice(0, at)] = value.slice(at + 1);
  }
  return pairs;
}

function pick<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new RollcallError('invalid-input', `${flag} ${value}: must be ${allowed.join(' or ')}`);
}

/** `k=v` flags as tags; a flag without `=` is an error that says so. */
export function parseTags(values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new RollcallError('invalid-input', `--tags ${value}: write tags as key=value`);
    tags[value.slice(0, at)] = value.slice(at + 1);
  }
  return tags;
}
