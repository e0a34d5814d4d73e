import { once } from 'node:events';
import { RollcallError } from '../../config/errors.js';
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
  port: number;
  instances: number;
  tags: Record<string, string>;
  region?: string;
  /** Resolves when the emulator should stop: SIGTERM or SIGINT by default. */
  stopped?: Promise<unknown>;
}

/**
 * `rollcall emulate ecs|chat`: one emulator alone, in the foreground. Its address (and for ecs its
 * AccessKey pair, for chat the apps' credentials as the ROLLCALL_* variables a rollcall needs) go
 * to stdout as one JSON line (so `--port 0` can be used by a script); it serves until SIGTERM.
 */
export async function emulateCommand(options: EmulateOptions, io: CliIo): Promise<number> {
  if (options.target !== 'ecs' && options.target !== 'chat') {
    io.stderr.write(`rollcall emulate: no ${options.target || '(missing)'} emulator: emulate ecs or emulate chat\n`);
    return EXIT.usage;
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new RollcallError('invalid-input', '--port must be a port number from 0 to 65535 (0 picks a free one)');
  }
  if (options.target === 'chat') return emulateChat(options, io);
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
    dingtalk: pick(options.dingtalkVia ?? (options.deliverTo ? 'http' : 'stream'), ['http', 'stream'], '--dingtalk-via'),
    lark: pick(options.larkVia ?? (options.deliverTo ? 'http' : 'long-connection'), ['http', 'long-connection'], '--lark-via'),
  };
  if ((paths.dingtalk === 'http' || paths.lark === 'http') && !options.deliverTo) {
    throw new RollcallError('invalid-input', "HTTP callbacks need rollcall's address: pass --deliver-to http://HOST:PORT (the URL rollcall serve printed)");
  }
  const { startChatEmulator } = await import('../../emulators/chat/chat-emulator.js');
  const apps = newChatApps();
  const emulator = await startChatEmulator({
    port: options.port,
    dingtalk: { appKey: apps.dingtalk.appKey, appSecret: apps.dingtalk.appSecret },
    lark: { appId: apps.lark.appId, appSecret: apps.lark.appSecret, verificationToken: apps.lark.verificationToken },
    robots: chatRobots(apps),
  });
  emulator.configureDeliveries(chatDeliveries(apps, paths, options.deliverTo ?? 'http://127.0.0.1'));
  const endpoint = emulator.url.replace(/^http:\/\//, '');
  io.stdout.write(`${JSON.stringify({ endpoint, url: emulator.url, paths, env: chatEnvironment(apps, paths, emulator) })}\n`);
  io.log.info({ url: emulator.url, paths }, 'chat emulator serving: start rollcall serve with the env above, then rollcall approve --emulator URL');
  await (options.stopped ?? Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]));
  await emulator.close();
  io.log.info('chat emulator stopped');
  return EXIT.ok;
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
