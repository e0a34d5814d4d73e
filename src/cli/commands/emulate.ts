import { once } from 'node:events';
import { RollcallError } from '../../config/errors.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

export interface EmulateOptions {
  target: string;
  port: number;
  instances: number;
  tags: Record<string, string>;
  region?: string;
  /** Resolves when the emulator should stop: SIGTERM or SIGINT by default. */
  stopped?: Promise<unknown>;
}

/**
 * `rollcall emulate ecs`: the ECS API emulator alone, in the foreground. Its address and AccessKey
 * pair go to stdout as one JSON line (so `--port 0` can be used by a script); it serves until
 * SIGTERM, then removes its sandbox instances.
 */
export async function emulateCommand(options: EmulateOptions, io: CliIo): Promise<number> {
  if (options.target !== 'ecs') {
    io.stderr.write(`rollcall emulate: the ${options.target} emulator is not part of this version yet; emulate ecs is\n`);
    return EXIT.usage;
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new RollcallError('invalid-input', '--port must be a port number from 0 to 65535 (0 picks a free one)');
  }
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
