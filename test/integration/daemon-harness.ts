import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServing } from '../../src/cli/commands/serve.js';
import { createLogger } from '../../src/config/logger.js';
import { startEcsEmulator, type EcsEmulator } from '../../src/emulators/ecs/ecs-emulator.js';
import type { Daemon } from '../../src/reconcile/daemon.js';

export const WEB = ['i-bp1web0000001', 'i-bp1web0000002'];
export const DB = ['i-bp1db0000001', 'i-bp1db0000002'];

/** The example fleet as sandbox instances behind the ECS emulator, with the docker group the roles expect. */
export async function startExampleFleet(options: { eventsUrl?: string; onRequest?: (action: string, receivedAt: number) => void } = {}): Promise<EcsEmulator> {
  const emulator = await startEcsEmulator({
    instances: [...WEB.map((id) => ({ id, tags: { app: 'web' } })), ...DB.map((id) => ({ id, tags: { app: 'db' } }))],
    ...(options.eventsUrl ? { eventsUrl: options.eventsUrl } : {}),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    seed: 11,
  });
  for (const id of emulator.instances) await emulator.fleet.exec(id, ['sh', '-c', 'getent group docker >/dev/null || groupadd docker']);
  return emulator;
}

/** The environment that points rollcall at the emulator. */
export function emulatorEnv(emulator: EcsEmulator, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.accessKeySecret,
    ROLLCALL_ECS_ENDPOINT: emulator.endpoint,
    ROLLCALL_LOG_LEVEL: process.env.ROLLCALL_LOG_LEVEL ?? 'warn',
    ...extra,
  };
}

/** `rollcall serve` in this process, against a local repository and the emulator. */
export async function startTestDaemon(options: { repo: string; emulator: EcsEmulator; stateDir?: string; driftIntervalMs?: number; pollIntervalMs?: number; port?: number; log?: string[] }): Promise<Daemon> {
  const env = emulatorEnv(options.emulator);
  const lines = options.log;
  const log = createLogger(env, { write: (line: string) => (lines ? lines.push(line) : process.stderr.write(line)) });
  return startServing(
    {
      repo: options.repo,
      path: 'desired-state',
      port: options.port ?? 0,
      stateDir: options.stateDir ?? mkdtempSync(path.join(tmpdir(), 'rollcall-state-')),
      fleetFlags: {},
      driftIntervalMs: options.driftIntervalMs ?? 60_000,
      ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
      retryBaseMs: 500,
    },
    { stdout: process.stdout, stderr: process.stderr, env, cwd: process.cwd(), log },
  );
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

/** A user's passwd line on an instance, or undefined. */
export async function passwdLine(emulator: EcsEmulator, instance: string, login: string): Promise<string | undefined> {
  const result = await emulator.fleet.exec(instance, ['getent', 'passwd', login]);
  return result.exitCode === 0 ? result.stdout.toString().trim() : undefined;
}

/** Runs git in a repository as a test author; returns stdout. */
export function gitIn(repo: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' },
  });
}
